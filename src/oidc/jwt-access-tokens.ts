// Which stored token a JWT access token (RFC 9068) is: its jti, once its signature, issuer, type
// and expiry check out against the provider's own published keys. Only a JWT this server signed is looked up.
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { KeyRing } from '../keys/key-ring.js';
import { publicPart, type KeySet } from '../keys/store.js';

/** A value of JWS compact shape: three base64url parts (an opaque token has no dot). */
export const looksLikeJwt = (value: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value);

export type JwtAccessTokenIds = (value: string) => Promise<string | undefined>;

export function jwtAccessTokenIds(keys: KeyRing, issuer: string): JwtAccessTokenIds {
  // Every published key verifies (next, current, previous), as /jwks does; rebuilt when the keys change.
  const verifierOf = (set: KeySet) => {
    const publicKeys = set.signing.map((key) => publicPart(key.jwk));
    return { jwks: createLocalJWKSet({ keys: publicKeys as never }), algorithms: [...new Set(set.signing.map((key) => key.alg as string))] };
  };
  let verifier = verifierOf(keys.current);
  keys.onChange((set) => (verifier = verifierOf(set)));
  return async (value) => {
    if (!looksLikeJwt(value)) return undefined;
    try {
      const { payload } = await jwtVerify(value, verifier.jwks, { issuer, typ: 'at+jwt', algorithms: verifier.algorithms });
      return typeof payload.jti === 'string' ? payload.jti : undefined;
    } catch {
      return undefined; // not ours, tampered with, or expired: no token
    }
  };
}
