import type { Argon2Gate } from '../clients/argon2-gate.js';
import { DEFAULT_HASH_COST, hashSecret, type HashCost } from '../crypto/argon2.js';

export const MIN_PASSWORD_LENGTH = 8;
/** Longest password accepted (and worth an argon2 verification); generous for passphrases. */
export const MAX_PASSWORD_LENGTH = 256;

/** NFKC, so the same password typed on another keyboard or OS still matches. */
const normalize = (password: string) => password.normalize('NFKC');

export function hashPassword(password: string, cost: HashCost = DEFAULT_HASH_COST): Promise<string> {
  return hashSecret(normalize(password), cost);
}

/**
 * Verifies a password against a user's argon2id hash, through the one argon2 gate. With no hash
 * (no such user) or an over-long password the gate verifies against its dummy hash instead, so
 * every attempt costs one argon2 verification and unknown usernames cannot be told apart by timing.
 */
export async function verifyPassword(hash: string | undefined, presented: string, gate: Argon2Gate): Promise<boolean> {
  const usable = hash !== undefined && presented.length <= MAX_PASSWORD_LENGTH;
  return gate.verify(usable ? hash : undefined, normalize(presented.slice(0, MAX_PASSWORD_LENGTH)));
}
