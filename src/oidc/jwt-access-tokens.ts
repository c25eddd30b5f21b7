// Which stored token a JWT access token (RFC 9068) is: its jti, once its signature, issuer, type
// and expiry check out against the provider's own published keys. Only a JWT this server signed is looked up.
import { createLocalJWKSet, jwtVerify } from 'jose';
import { sha256 } from '../crypto/hash.js';
import type { KeyRing } from '../keys/key-ring.js';
import { publicPart, type KeySet } from '../keys/store.js';

/** A value of JWS compact shape: three base64url parts (an opaque token has no dot). */
export const looksLikeJwt = (value: string) => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(value);

/**
 * How many verified JWTs are remembered (by their value's hash: the jti and exp), so that a JWT
 * presented again, as a gateway presents each API request's, is not verified again until the
 * published keys change. The oldest goes first.
 */
const REMEMBERED_JWTS = 10_000;

export type JwtAccessTokenIds = (value: string) => Promise<string | undefined>;

export function jwtAccessTokenIds(keys: KeyRing, issuer: string): JwtAccessTokenIds {
  // Every published key verifies (next, current, previous), as /jwks does; rebuilt when the keys change.
  const verifierOf = (set: KeySet) => {
    const publicKeys = set.signing.map((key) => publicPart(key.jwk));
    return { jwks: createLocalJWKSet({ keys: publicKeys as never }), algorithms: [...new Set(set.signing.map((key) => key.alg as string))] };
  };
  let verifier = verifierOf(keys.current);
  let verified = new Map<string, { jti: string; expiresAt: number }>();
  keys.onChange((set) => {
    verifier = verifierOf(set);
    verified = new Map(); // a JWT of a key no longer published verifies no more
  });
  return async (value) => {
    if (!looksLikeJwt(value)) return undefined;
    const hash = sha256(value);
    const known = verified.get(hash);
    if (known && known.expiresAt > Date.now()) return known.jti;
    if (known) verified.delete(hash);
    try {
      const { payload } = await jwtVerify(value, verifier.jwks, { issuer, typ: 'at+jwt', algorithms: verifier.algorithms });
      if (typeof payload.jti !== 'string') return undefined;
      if (typeof payload.exp === 'number') {
        while (verified.size >= REMEMBERED_JWTS) verified.delete(verified.keys().next().value as string);
        verified.set(hash, { jti: payload.jti, expiresAt: payload.exp * 1000 });
      }
      return payload.jti;
    } catch {
      return undefined; // not ours, tampered with, or expired: no token
    }
  };
}
