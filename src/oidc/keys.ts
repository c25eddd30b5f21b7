import { generateKeyPairSync, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'oidc-provider';

/** The provider's signing keys and cookie-signing keys: secrets, so they live in a 0600 file, never in the database. */
export interface ProviderKeys {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  /** 32 random bytes, base64url: the DPoP nonce secret (RFC 9449 §8). Absent from files written before it existed. */
  dpopNonceSecret?: string;
}

/**
 * Reads `<dataDir>/keys.json`, creating it on first start. Instances that share a database must
 * share this file (or the same content), or tokens and cookies signed by one are refused by another.
 */
export async function loadProviderKeys(dataDir: string): Promise<{ keys: ProviderKeys; created: boolean }> {
  const path = join(dataDir, 'keys.json');
  const existing = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (existing) return { keys: await withKeyForEveryAlg(path, JSON.parse(existing) as ProviderKeys), created: false };

  const keys = generateProviderKeys();
  await mkdir(dataDir, { recursive: true });
  // 'wx' refuses to overwrite a file another instance wrote meanwhile.
  await writeFile(path, JSON.stringify(keys, null, 2), { mode: 0o600, flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  return { keys: JSON.parse(await readFile(path, 'utf8')) as ProviderKeys, created: true };
}

export function generateProviderKeys(): ProviderKeys {
  return { jwks: { keys: SIGNING_ALGS.map(generateSigningKey) }, cookieKeys: [randomBytes(32).toString('base64url')], dpopNonceSecret: randomBytes(32).toString('base64url') };
}

/** The algorithms access tokens can be signed with (a resource server's signing_alg): one key each. */
const SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;

function generateSigningKey(alg: (typeof SIGNING_ALGS)[number]): JWK {
  const { privateKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg } as JWK;
}

/**
 * A keys.json written before ES256 and EdDSA keys existed gets one of each, written back to the file
 * (replaced whole, by rename) so that every instance sharing it signs and publishes the same keys.
 * Two instances adding them at the same moment: the file read back after the rename is the one used.
 */
async function withKeyForEveryAlg(path: string, keys: ProviderKeys): Promise<ProviderKeys> {
  const missing = SIGNING_ALGS.filter((alg) => !keys.jwks.keys.some((key) => key.alg === alg));
  if (missing.length === 0) return keys;
  const completed = { ...keys, jwks: { keys: [...keys.jwks.keys, ...missing.map(generateSigningKey)] } };
  const temporary = `${path}.${randomUUID()}.tmp`;
  await writeFile(temporary, JSON.stringify(completed, null, 2), { mode: 0o600, flag: 'wx' });
  await rename(temporary, path);
  return JSON.parse(await readFile(path, 'utf8')) as ProviderKeys;
}

/**
 * The secret DPoP nonces are made from. Every instance must use the same one, or a nonce issued by
 * one is refused by another; a keys.json from before the field existed gets one derived from its
 * first cookie key, which every instance sharing the file derives alike, so nothing is rewritten.
 */
export function dpopNonceSecret(keys: ProviderKeys): Buffer {
  if (keys.dpopNonceSecret) {
    const secret = Buffer.from(keys.dpopNonceSecret, 'base64url');
    if (secret.length !== 32) throw new Error('keys.json: dpopNonceSecret must be 32 bytes, base64url-encoded');
    return secret;
  }
  return derivedSecret(keys, 'tollgate dpop nonce');
}

/** A 32-byte secret for one purpose, derived from the first cookie key (HKDF-SHA256), shared by all instances. */
export function derivedSecret(keys: ProviderKeys, purpose: string): Buffer {
  const [key] = keys.cookieKeys;
  if (!key) throw new Error('keys.json: cookieKeys is empty');
  return Buffer.from(hkdfSync('sha256', key, 'tollgate', purpose, 32));
}
