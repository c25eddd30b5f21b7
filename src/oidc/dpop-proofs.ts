// What every DPoP proof check shares, wherever the proof arrives (the token endpoint, the gateway
// check): a proof is used once, whoever presents it (RFC 9449 §11.1), on every instance at once.
import { sha256 } from '../clients/secrets.js';
import type { Database } from '../db/database.js';
import { tokenStore } from '../tokens/store/token-store.js';
import { StoreAdapter } from './adapter.js';

/** How far a proof's `iat` may be from now, either way, and how long its `jti` is remembered: oidc-provider's window. */
export const DPOP_PROOF_WINDOW_SECONDS = 300;

/** The signing algorithms proofs may use: oidc-provider's, as discovery lists them (dpop_signing_alg_values_supported). */
export const DPOP_SIGNING_ALGS = ['ES256', 'Ed25519', 'EdDSA'];

/** Is this the first use of a proof's `jti`? */
export type ProofFirstUse = (jti: string, exp: number) => Promise<boolean>;

/**
 * True the first time a proof's `jti` is seen, remembered until `exp` (epoch seconds): an atomic
 * insert into the token table, so copies racing on different instances get one true between them.
 */
export function proofFirstUse(db: Database): ProofFirstUse {
  const proofs = new StoreAdapter(tokenStore(db), 'ReplayDetection');
  return (jti, exp) => {
    const now = Math.floor(Date.now() / 1000);
    return proofs.insertIfAbsent(sha256(jti), { kind: 'ReplayDetection', exp, iat: now }, Math.max(1, exp - now));
  };
}
