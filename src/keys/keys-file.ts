import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'oidc-provider';
import { subkey } from '../crypto/derive.js';
import { randomSecret } from '../crypto/random.js';
import { generateSigningKey, SIGNING_ALGS } from '../crypto/signing-keys.js';

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

/** A keys.json's content with new keys: what the tests' servers import instead of generating RSA keys each. */
export function generateProviderKeys(): ProviderKeys {
  return {
    jwks: { keys: SIGNING_ALGS.map((alg) => generateSigningKey(alg) as JWK) },
    cookieKeys: [randomSecret()],
    dpopNonceSecret: randomSecret(),
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
