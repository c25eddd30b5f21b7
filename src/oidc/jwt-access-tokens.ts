// Which stored token a JWT access token (RFC 9068) is: its jti, once its signature, issuer, type
// and expiry check out against the provider's own keys. Only a JWT this server signed is looked up.
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import type { ProviderKeys } from './keys.js';

/** The private members of the JWK types in keys.json; what is left is the public key. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** A value of JWS compact shape: three base64url parts (an opaque token has no dot). */
export const looksLikeJwt = (value: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value);

export type JwtAccessTokenIds = (value: string) => Promise<string | undefined>;

export function jwtAccessTokenIds(keys: ProviderKeys, issuer: string): JwtAccessTokenIds {
  const publicKeys = keys.jwks.keys.map((key) => Object.fromEntries(Object.entries(key).filter(([member]) => !PRIVATE_MEMBERS.includes(member))) as JWK);
  const jwks = createLocalJWKSet({ keys: publicKeys });
  const algorithms = [...new Set(publicKeys.map((key) => key.alg).filter((alg): alg is string => typeof alg === 'string'))];
  return async (value) => {
    if (!looksLikeJwt(value)) return undefined;
    try {
      const { payload } = await jwtVerify(value, jwks, { issuer, typ: 'at+jwt', algorithms });
      return typeof payload.jti === 'string' ? payload.jti : undefined;
    } catch {
      return undefined; // not ours, tampered with, or expired: no token
    }
  };
}
