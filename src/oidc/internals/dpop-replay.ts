// DPoP proof replay detection. The provider's ReplayDetection.unique reads, then writes, so two
// requests with one proof can both pass; it remembers a proof per client, so another client could
// present it again; and a replay is answered invalid_grant. Tollgate's replacement inserts
// atomically, remembers a proof by its jti alone (RFC 9449 §11.1: a proof is used once, whoever
// presents it) and refuses a replay as the invalid proof it is. Tollgate enables no other use of
// ReplayDetection (JWT client authentication, client attestation).
import { errors } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { expectShape, isFunction } from './shape.js';

type Unique = (iss: string, jti: string, exp: number) => Promise<boolean>;

export function checkReplayDetection(provider: Provider): void {
  expectShape(isFunction((provider.ReplayDetection as { unique?: unknown } | undefined)?.unique), 'ReplayDetection.unique not found');
}

/**
 * `firstUse(jti, exp)` is true the first time a proof's `jti` is seen (remembered until `exp`);
 * a proof seen before is refused with 400 invalid_dpop_proof.
 */
export function replaceReplayDetection(provider: Provider, firstUse: (jti: string, exp: number) => Promise<boolean>): void {
  checkReplayDetection(provider);
  const unique: Unique = async (_iss, jti, exp) => {
    if (await firstUse(jti, exp)) return true;
    throw new errors.InvalidDpopProof('DPoP proof JWT replay detected');
  };
  (provider.ReplayDetection as unknown as { unique: Unique }).unique = unique;
}
