import { generateKeyPairSync, type JsonWebKey, randomUUID } from 'node:crypto';

/**
 * The JWS algorithms Tollgate signs with: the provider holds one key of each in every phase
 * (src/keys/store.ts), so a resource server's JWT access tokens may name any of them.
 */
export const SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** A private signing key as a JWK, with the kid, use and alg a JWKS publishes. */
export type SigningJwk = JsonWebKey & { kid: string; use: 'sig'; alg: SigningAlg };

/** A new private signing key for `alg`. */
export function generateSigningKey(alg: SigningAlg): SigningJwk {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg };
}
