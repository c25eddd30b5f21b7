import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { DEFAULT_HASH_COST, hashSecret, type HashCost } from '../clients/secrets.js';

export const MIN_PASSWORD_LENGTH = 8;
/** Longest password accepted (and worth an argon2 verification); generous for passphrases. */
export const MAX_PASSWORD_LENGTH = 256;

/** NFKC, so the same password typed on another keyboard or OS still matches. */
const normalize = (password: string) => password.normalize('NFKC');

export function hashPassword(password: string, cost: HashCost = DEFAULT_HASH_COST): Promise<string> {
  return hashSecret(normalize(password), cost);
}

/** One per cost: the dummy must cost what a real user's hash does. */
const dummyHashes = new Map<string, Promise<string>>();

/**
 * Verifies a password against a user's argon2id hash. With no hash (no such user) or an
 * over-long password it verifies against a hash of a random secret instead, so every attempt
 * costs one argon2 verification and unknown usernames cannot be told apart by timing.
 */
export async function verifyPassword(hash: string | undefined, presented: string, cost: HashCost = DEFAULT_HASH_COST): Promise<boolean> {
  const key = `${cost.memoryCost},${cost.timeCost},${cost.parallelism}`;
  let dummyHash = dummyHashes.get(key);
  if (!dummyHash) dummyHashes.set(key, (dummyHash = hashSecret(randomBytes(32).toString('base64url'), cost)));
  const usable = hash !== undefined && presented.length <= MAX_PASSWORD_LENGTH;
  const matched = await argon2
    .verify(usable ? hash : await dummyHash, normalize(presented.slice(0, MAX_PASSWORD_LENGTH)))
    .catch(() => false);
  return usable && matched;
}
