// DPoP proof replay detection. The provider's ReplayDetection.unique reads, then writes, so two
// requests with one proof can both pass; it remembers a proof per client, so another client could
// present it again; it remembers it a window from its first use, while the provider takes an `iat`
// up to a window ahead, so a proof stamped ahead of the clock passes again once its record expires;
// and a replay is answered invalid_grant. Tollgate's replacement refuses a proof stamped ahead of
// the clock by more than skew, inserts atomically, remembers a proof by its jti alone (RFC 9449
// §11.1: a proof is used once, whoever presents it) for as long as it is recent, and refuses a
// replay as the invalid proof it is. unique() is told only the jti: the proof's `iat` is read from
// the request being answered (Provider.ctx), whose DPoP header the provider has just verified.
// Tollgate enables no other use of ReplayDetection (JWT client authentication, client attestation).
import { decodeJwt } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { issuedInTheFuture, type ProofFirstUse } from '../dpop-proofs.js';
import { expectShape, isFunction } from './shape.js';

type Unique = (iss: string, jti: string, exp: number) => Promise<boolean>;

export function checkReplayDetection(provider: Provider): void {
  expectShape(isFunction((provider.ReplayDetection as { unique?: unknown } | undefined)?.unique), 'ReplayDetection.unique not found');
  expectShape(isFunction(Object.getOwnPropertyDescriptor(Provider, 'ctx')?.get), 'Provider.ctx not found');
}

/**
 * A proof is refused with 400 invalid_dpop_proof when its `iat` is ahead of the clock by more than
 * skew or when `firstUse` says its `jti` was seen before.
 */
export function replaceReplayDetection(provider: Provider, firstUse: ProofFirstUse): void {
  checkReplayDetection(provider);
  const unique: Unique = async (_iss, jti) => {
    const iat = presentedIat(jti);
    if (iat === undefined) throw new errors.InvalidDpopProof('DPoP proof not found');
    if (issuedInTheFuture(iat, Math.floor(Date.now() / 1000))) throw new errors.InvalidDpopProof("DPoP proof iat is in the future: check the client's clock");
    if (await firstUse(jti, iat)) return true;
    throw new errors.InvalidDpopProof('DPoP proof JWT replay detected');
  };
  (provider.ReplayDetection as unknown as { unique: Unique }).unique = unique;
}

/** The `iat` of the DPoP proof with this jti in the request being answered, if it has one. */
function presentedIat(jti: string): number | undefined {
  const proof = Provider.ctx?.get('DPoP');
  if (!proof) return undefined;
  try {
    const { jti: presented, iat } = decodeJwt(proof);
    return presented === jti && typeof iat === 'number' ? iat : undefined;
  } catch {
    return undefined;
  }
}
