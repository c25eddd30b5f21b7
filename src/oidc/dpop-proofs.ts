// What every DPoP proof check shares, wherever the proof arrives (the token endpoint, the gateway
// check): a proof is used once, whoever presents it (RFC 9449 §11.1), on every instance at once,
// and it is remembered for as long as it could be presented again.
import { sha256 } from '../crypto/hash.js';
import type { Database } from '../db/database.js';
import { tokenStore } from '../tokens/store/token-store.js';
import { StoreAdapter } from './adapter.js';

/** How old a proof's `iat` may be: oidc-provider's window. */
export const DPOP_PROOF_WINDOW_SECONDS = 300;

/**
 * How far ahead of this server's clock a proof's `iat` may be. A client stamps its proof just
 * before sending it, so only clock skew puts `iat` ahead: NTP keeps hosts well within a second,
 * and 5 s leaves room for a poorly synced one. Any more, and a proof minted for later stays
 * usable for that much longer than the window (RFC 9449 §11.1).
 */
export const DPOP_PROOF_FUTURE_SKEW_SECONDS = 5;

/** The signing algorithms proofs may use: oidc-provider's, as discovery lists them (dpop_signing_alg_values_supported). */
export const DPOP_SIGNING_ALGS = ['ES256', 'Ed25519', 'EdDSA'];

/** Is a proof issued at `iat` stamped further ahead of `now` (epoch seconds) than clock skew explains? */
export function issuedInTheFuture(iat: number, now: number): boolean {
  return iat > now + DPOP_PROOF_FUTURE_SKEW_SECONDS;
}

/** Is this the first use of a proof's `jti`? `iat` is the proof's, already found recent. */
export type ProofFirstUse = (jti: string, iat: number) => Promise<boolean>;

/**
 * True the first time a proof's `jti` is seen: an atomic insert into the token table, so copies
 * racing on different instances get one true between them. The `jti` is remembered until the proof
 * is stale, `iat` + window, and at least a window from now: a record kept only a window from its
 * first use would expire while a proof stamped ahead of the clock is still recent.
 */
export function proofFirstUse(db: Database): ProofFirstUse {
  const proofs = new StoreAdapter(tokenStore(db), 'ReplayDetection');
  return (jti, iat) => {
    const now = Math.floor(Date.now() / 1000);
    const exp = Math.max(iat, now) + DPOP_PROOF_WINDOW_SECONDS;
    return proofs.insertIfAbsent(sha256(jti), { kind: 'ReplayDetection', exp, iat: now }, exp - now);
  };
}
