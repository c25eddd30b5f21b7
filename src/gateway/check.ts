// The gateway check (GATEWAY_PORT, /gateway/check): may the request a gateway forwards pass? 200
// with the token's subject, client, scopes and audience for the gateway to pass upstream; 401 with
// an RFC 6750 §3 (or RFC 9449 §7.1) challenge for a missing, unknown, expired or revoked token or a
// missing or bad DPoP proof; 403 insufficient_scope when no rule of the token's resource server lets
// it through. A remembered token is decided from memory: the token cache introspection fills too.
import type { IncomingMessage } from 'node:http';
import type { Caches } from '../cache/caches.js';
import type { CachedToken } from '../cache/token-cache.js';
import { sha256 } from '../crypto/hash.js';
import { ENDPOINTS } from '../http/endpoints.js';
import { HttpError } from '../http/errors.js';
import type { Exchange } from '../http/exchange.js';
import { type Answer, challenge as challengeHeader } from '../http/answers.js';
import type { HeaderHandler } from '../http/pipeline.js';
import { sharedSecretCheck } from '../crypto/compare.js';
import { DPOP_SIGNING_ALGS, type ProofFirstUse } from '../oidc/dpop-proofs.js';
import { looksLikeJwt, type JwtAccessTokenIds } from '../oidc/jwt-access-tokens.js';
import type { Candidate, RouteDirectory } from './directory.js';
import { ProofRefused, verifyProof } from './dpop.js';
import { originalRequest, proofUrl, refuseAmbiguous } from './original-request.js';
import { missingScopes, requestTarget } from '../resource-servers/route-rules.js';

const GATEWAY_CHECK_PATH = ENDPOINTS.gateway.path;

export interface GatewayCheckDeps {
  caches: Caches;
  directory: RouteDirectory;
  /** A live access token by its value, as introspection would find it, or undefined. */
  findToken(value: string): Promise<CachedToken | undefined>;
  /** Which stored token a JWT access token is (its jti), once verified; undefined for any other value. */
  jwtIds: JwtAccessTokenIds;
  firstUse: ProofFirstUse;
  /** GATEWAY_KEY: what callers must send as X-Gateway-Key. */
  key?: string;
  /** A token let through to `audience`'s route: for the audit trail. */
  passed(token: CachedToken, audience: string): void;
}

type Scheme = 'Bearer' | 'DPoP';

/**
 * A public route's answer: the X-Auth-* headers are sent empty rather than left out, so that a
 * gateway copying them (Caddy 2.6's copy_headers) never passes the client's own, or a placeholder.
 */
const PASS: Answer = { body: '{}', headers: authHeaders('', '', '', '') };
const TOKEN68 = /^(Bearer|DPoP) +([\w.~+/-]+=*) *$/i;

export function gatewayCheck(deps: GatewayCheckDeps): HeaderHandler {
  const { caches, directory } = deps;
  const isKey = deps.key === undefined ? undefined : sharedSecretCheck(deps.key);

  return async function check(req: IncomingMessage, exchange: Exchange): Promise<Answer> {
    const { headers } = req;
    if (isKey) checkKey(headers['x-gateway-key'], isKey);
    // Envoy's original target, query included: a # there is refused like anywhere else.
    const original = originalRequest(headers, req.method ?? 'GET', req.url ?? exchange.path, GATEWAY_CHECK_PATH);
    const candidates = await directory.candidates(requestTarget(original.method, original.host, original.segments)).catch(refuseAmbiguous);
    const open = candidates.find((candidate) => candidate.rule.public);

    const authorization = headers.authorization;
    if (authorization === undefined) {
      if (open) return PASS;
      // RFC 6750 §3.1: no error code for a request without credentials; either scheme will do.
      throw new HttpError(401, 'invalid_token', 'an access token is required', {
        headers: { 'WWW-Authenticate': `Bearer, DPoP algs="${DPOP_SIGNING_ALGS.join(' ')}"` },
      });
    }
    const presented = TOKEN68.exec(authorization);
    if (!presented) throw challenge(401, 'Bearer', 'invalid_token', 'the Authorization header is not Bearer or DPoP with a token');
    const scheme: Scheme = presented[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const value = presented[2]!;

    const token = await liveToken(value);
    if (!token) throw challenge(401, scheme, 'invalid_token', 'the access token is unknown, expired or revoked');
    // RFC 9449 §7.1: a bound token is refused as a bearer token, and only a bound one is sent as DPoP.
    if (token.jkt && scheme === 'Bearer') throw challenge(401, 'DPoP', 'invalid_token', 'the access token is DPoP-bound: send it as DPoP with a proof');
    if (!token.jkt && scheme === 'DPoP') throw challenge(401, 'Bearer', 'invalid_token', 'the access token is not DPoP-bound: send it as Bearer');

    const chosen: Candidate | undefined = candidates.find((candidate) => token.audience.includes(candidate.server.audience));
    if (!chosen) {
      if (open) return PASS;
      throw challenge(
        403,
        scheme,
        'insufficient_scope',
        candidates.length ? 'the access token is for another resource server' : 'no route rule lets this request through',
      );
    }
    if (token.jkt) {
      const proof = headers.dpop;
      const url = proofUrl(original, chosen.server.publicBaseUrl);
      if (typeof proof !== 'string' || proof.includes(',')) throw challenge(401, 'DPoP', 'invalid_token', 'one DPoP proof for the request is required');
      if (!url) throw challenge(401, 'DPoP', 'invalid_token', 'the request URL is malformed');
      try {
        await verifyProof(proof, { method: original.method, url, accessToken: value, jkt: token.jkt }, deps.firstUse);
      } catch (err) {
        if (err instanceof ProofRefused) throw challenge(401, 'DPoP', 'invalid_token', err.message);
        throw err;
      }
    }
    const missing = missingScopes(chosen.rule, new Set(token.scope.split(' ')));
    if (missing !== undefined) throw challenge(403, scheme, 'insufficient_scope', 'the access token lacks the scope this route needs', missing);
    deps.passed(token, chosen.server.audience);
    return { body: '{}', headers: authHeaders(token.subject ?? '', token.clientId, token.scope, chosen.server.audience) };
  };

  /**
   * The token from memory, else from the store (and then remembered, unless revoked meanwhile).
   * It is remembered under the id it is stored and revoked under: an opaque token's value, a JWT's
   * jti once the JWT verifies (src/oidc/adapter.ts), so that its revocation evicts it.
   */
  async function liveToken(value: string): Promise<CachedToken | undefined> {
    if (!caches.usable) return deps.findToken(value);
    const jwt = looksLikeJwt(value);
    const id = jwt ? await deps.jwtIds(value) : value;
    if (id === undefined) return undefined;
    const hash = sha256(id);
    const cached = caches.tokens.get(hash);
    // A JWT's entry is not the answer for its bare jti: the store refuses that value too.
    if (cached) return (cached.jwt === true) === jwt ? cached : undefined;
    const generation = caches.tokens.generation;
    const found = await deps.findToken(value);
    if (found) caches.tokens.set(hash, jwt ? { ...found, jwt } : found, generation);
    return found;
  }
}

/** RFC 6750 §3 / RFC 9449 §7.1: the error in the JSON body and in WWW-Authenticate. */
function challenge(status: 401 | 403, scheme: Scheme, error: 'invalid_token' | 'insufficient_scope', description: string, scope?: string): HttpError {
  const algs = scheme === 'DPoP' ? DPOP_SIGNING_ALGS.join(' ') : undefined;
  const header = challengeHeader(scheme, { algs, error, error_description: description, scope: scope || undefined });
  return new HttpError(status, error, description, { scope, headers: { 'WWW-Authenticate': header } });
}

function checkKey(presented: string | string[] | undefined, isKey: (presented: string) => boolean): void {
  if (typeof presented === 'string' && isKey(presented)) return;
  throw new HttpError(401, 'invalid_client', 'X-Gateway-Key is missing or wrong', { headers: { 'WWW-Authenticate': 'Gateway-Key realm="tollgate"' } });
}

/** What the gateway passes upstream. */
function authHeaders(subject: string, clientId: string, scope: string, audience: string): Record<string, string> {
  return {
    'Cache-Control': 'no-store',
    'X-Auth-Subject': headerValue(subject),
    'X-Auth-Client-Id': headerValue(clientId),
    'X-Auth-Scope': headerValue(scope),
    'X-Auth-Audience': headerValue(audience),
  };
}

/** A value Node can send as a header: identifiers and scopes are printable ASCII; anything else is sent empty. */
function headerValue(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : '';
}
