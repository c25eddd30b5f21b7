// A DPoP proof (RFC 9449 §4.3, §7.1) for the request a gateway asks about: signed by the key the
// token is bound to, for that request's method and URL, carrying the token's hash, recent, and
// used once, on every instance (the same replay record as the token endpoint's proofs).
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { sha256 } from '../crypto/hash.js';
import { DPOP_PROOF_WINDOW_SECONDS, DPOP_SIGNING_ALGS, issuedInTheFuture, type ProofFirstUse } from '../oidc/dpop-proofs.js';

export interface ProofExpectations {
  /** The original request's method and URL (without query). */
  method: string;
  url: string;
  /** The access token the proof goes with (its SHA-256 is the proof's `ath`). */
  accessToken: string;
  /** The token's cnf.jkt: the thumbprint of the key it is bound to. */
  jkt: string;
}

/** Why a proof is refused, in words a client developer can act on. */
export class ProofRefused extends Error {}

/** Resolves when the proof is good (and now used); rejects with ProofRefused otherwise. */
export async function verifyProof(proof: string, expected: ProofExpectations, firstUse: ProofFirstUse): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  let payload: Record<string, unknown>;
  let jwk: JWK | undefined;
  try {
    ({
      payload,
      protectedHeader: { jwk },
    } = await jwtVerify(proof, EmbeddedJWK, { algorithms: DPOP_SIGNING_ALGS, typ: 'dpop+jwt', currentDate: new Date(now * 1000) }));
  } catch {
    throw new ProofRefused('the DPoP proof is not a valid dpop+jwt signed by its embedded key');
  }
  if (typeof payload.iat !== 'number' || now - payload.iat > DPOP_PROOF_WINDOW_SECONDS) throw new ProofRefused('the DPoP proof is not recent (iat)');
  if (issuedInTheFuture(payload.iat, now)) throw new ProofRefused("the DPoP proof is issued in the future (iat): check the client's clock");
  if (typeof payload.jti !== 'string' || !payload.jti || payload.jti.length > 256) throw new ProofRefused('the DPoP proof has no jti');
  if (payload.htm !== expected.method) throw new ProofRefused('the DPoP proof is for another method (htm)');
  if (typeof payload.htu !== 'string' || withoutQuery(payload.htu) !== expected.url) throw new ProofRefused('the DPoP proof is for another URL (htu)');
  if (payload.ath !== sha256(expected.accessToken)) throw new ProofRefused('the DPoP proof is for another access token (ath)');
  if (!jwk || (await calculateJwkThumbprint(jwk, 'sha256')) !== expected.jkt)
    throw new ProofRefused('the DPoP proof is signed by another key than the token is bound to');
  // Last: a proof refused for another reason has not been used.
  if (!(await firstUse(payload.jti, payload.iat))) throw new ProofRefused('the DPoP proof was used before');
}

/** A URL as compared: normalised, without query or fragment (RFC 9449 §4.3). */
function withoutQuery(htu: string): string | undefined {
  const url = URL.parse(htu);
  if (!url) return undefined;
  url.search = '';
  url.hash = '';
  return url.href;
}
