import { generateKeyPairSync, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'oidc-provider';

/** The JWS algorithms Tollgate signs with: one key of each in every phase (src/keys/store.ts). */
export const SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/**
 * What `DATA_DIR/keys.json` held before keys moved into the database: the signing keys, the cookie
 * keys (the first signs) and the DPoP nonce secret. Read once, to import it (src/keys/store.ts).
 */
export interface ProviderKeys {
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  /** 32 random bytes, base64url: the DPoP nonce secret (RFC 9449 §8). Absent from files written before it existed. */
  dpopNonceSecret?: string;
}

export const KEYS_FILE = 'keys.json';

/** `<dataDir>/keys.json` and its path, or undefined when there is none. */
export async function readKeysFile(dataDir: string): Promise<{ keys: ProviderKeys; path: string } | undefined> {
  const path = join(dataDir, KEYS_FILE);
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  return text === undefined ? undefined : { keys: JSON.parse(text) as ProviderKeys, path };
}

/** A new private signing key for `alg`, as a JWK with its kid, use and alg. */
export function generateSigningKey(alg: SigningAlg): JWK {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg } as JWK;
}

/** A keys.json's content with new keys: what the tests' servers import instead of generating RSA keys each. */
export function generateProviderKeys(): ProviderKeys {
  return {
    jwks: { keys: SIGNING_ALGS.map(generateSigningKey) },
    cookieKeys: [randomBytes(32).toString('base64url')],
    dpopNonceSecret: randomBytes(32).toString('base64url'),
  };
}

/**
 * The secret DPoP nonces are made from, in a keys.json; one from before the field existed gets one
 * derived from its first cookie key, as every instance sharing the file derived it.
 */
export function dpopNonceSecret(keys: ProviderKeys): Buffer {
  if (keys.dpopNonceSecret) {
    const secret = Buffer.from(keys.dpopNonceSecret, 'base64url');
    if (secret.length !== 32) throw new Error('keys.json: dpopNonceSecret must be 32 bytes, base64url-encoded');
    return secret;
  }
  return derivedSecret(keys, 'tollgate dpop nonce');
}

/** A 32-byte secret for one purpose, derived from keys.json's first cookie key (HKDF-SHA256), as earlier versions did. */
export function derivedSecret(keys: ProviderKeys, purpose: string): Buffer {
  const [key] = keys.cookieKeys;
  if (!key) throw new Error('keys.json: cookieKeys is empty');
  return subkey(key, purpose);
}

/** A 32-byte secret for one purpose, derived from `secret` (HKDF-SHA256): one stored secret serves several uses apart. */
export function subkey(secret: Buffer | string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'tollgate', purpose, 32));
}
