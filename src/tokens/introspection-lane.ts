// POST /introspect answered before Koa, for a caller whose secret was verified before: a token in
// the cache, or one no live row exists for. A resource server asking again about a token it asked
// about before is the request Tollgate serves most, and Koa's share of it (a context, a chain of
// twenty middleware, an async step each) was most of its cost. Everything else (a token the
// provider must judge, a caller not yet verified, anything unusual) goes to Koa untouched, with
// the body this lane has read, where the fast path (fast-introspection.ts) and the provider take over. What the
// lane answers is what Koa would: its request id, security headers, log line, metrics, rate limits
// and audit event come from the same functions Koa's middleware uses.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { Caches } from '../cache/caches.js';
import { sha256, type SecretVerifier } from '../clients/secrets.js';
import type { Client, Database } from '../db/database.js';
import { HttpError } from '../http/errors.js';
import { logRequest, requestIdFor, requestLineLogger, securityHeaderValues } from '../http/middleware.js';
import { MAX_BODY_BYTES } from '../http/request-limits.js';
import { countRequest } from '../metrics/http.js';
import type { Metrics } from '../metrics/metrics.js';
import { recordIntrospection } from '../oidc/operations.js';
import { RateLimitError, type RateLimits } from '../rate-limit/limits.js';
import { limitEndpointRequest } from '../rate-limit/middleware.js';
import { basicCredentials, isRemembered, readBody } from './form-request.js';
import { INACTIVE, isPlainTokenQuery, tokenMayExist } from './fast-introspection.js';

const FORM = /^application\/x-www-form-urlencoded\s*(;\s*charset=utf-8\s*)?$/i;

export interface IntrospectionLaneDeps {
  path: string;
  issuer: string;
  db: Database;
  trustProxy: boolean;
  caches: Caches;
  secrets: SecretVerifier;
  limits: RateLimits;
  metrics: Metrics;
  audit: AuditLog;
  log: Logger;
}

export function introspectionLane(deps: IntrospectionLaneDeps, koa: RequestListener): RequestListener {
  const { path, caches, secrets, log } = deps;
  const headers = securityHeaderValues(deps.issuer);
  const lines = requestLineLogger(log);

  /** The verified caller of a request the lane may take, from its headers alone; else undefined. */
  function laneCaller(req: IncomingMessage): { caller: Client; secret: string } | undefined {
    if (req.method !== 'POST' || req.url !== path || !caches.usable) return undefined;
    const { 'content-type': type, 'content-length': length, authorization } = req.headers;
    if (!type || !FORM.test(type) || !length || !(Number(length) <= MAX_BODY_BYTES) || req.headers['transfer-encoding']) return undefined;
    if (req.headers['oauth-client-attestation'] || req.headers['oauth-client-attestation-pop']) return undefined;
    const credentials = basicCredentials(authorization ?? '');
    const caller = credentials && caches.cachedClient(credentials.id);
    return caller && isRemembered(caller, credentials.secret, secrets) ? { caller, secret: credentials.secret } : undefined;
  }

  async function serve(req: IncomingMessage, res: ServerResponse, caller: Client, started: number): Promise<void> {
    const raw = await readBody(req);
    const params = parseQuery(raw.toString('utf8'));
    const hash = isPlainTokenQuery(params) ? sha256(params.token as string) : undefined;
    const cached = hash === undefined ? undefined : caches.tokens.get(hash);
    // A token no live row has is inactive, whoever asks; one that has a row is the provider's to
    // judge. A failed lookup goes to Koa too, which answers a database outage with its 503.
    if (hash === undefined || (!cached && (await tokenMayExist(deps.db, hash).catch(() => true)))) {
      // Koa's turn, with the body already read: the provider and the fast path read it from here.
      (req as { body?: Buffer }).body = raw;
      return koa(req, res);
    }
    const requestId = requestIdFor(firstValue(req.headers['x-request-id']));
    const ip = clientIp(req, deps.trustProxy);
    let status = 200;
    let body: string;
    let extra: Record<string, string> | undefined;
    try {
      await limitEndpointRequest(deps.limits, 'introspect', ip, caller.id);
      // The provider's allowedPolicy: a client sees its own tokens, a resource server any.
      const visible = cached !== undefined && (cached.clientId === caller.id || caller.resourceServer);
      body = visible ? cached.body : INACTIVE;
      deps.metrics.fastAnswers.inc({ path: 'introspection_lane' });
      const answer = visible ? { active: true, client_id: cached.clientId, sub: cached.subject, token_type: cached.tokenType } : { active: false };
      recordIntrospection(deps.audit, { ip, state: { requestId } }, { caller: caller.id, answer, tokenId: hash, grantId: cached?.grantId });
    } catch (err) {
      if (!(err instanceof RateLimitError)) throw err;
      [status, body, extra] = [429, errorBody(err), { 'Retry-After': String(err.retryAfterSeconds) }];
    }
    res.writeHead(status, { 'X-Request-Id': requestId, ...headers, 'Cache-Control': 'no-store', ...extra, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    logRequest(lines, { requestId, method: 'POST', path, status, started });
    countRequest(deps.metrics, path, 'POST', status, started);
  }

  return function introspectionLane(req, res) {
    const taken = laneCaller(req);
    if (!taken) return koa(req, res);
    const started = performance.now();
    serve(req, res, taken.caller, started).catch((err: unknown) => {
      const known = err instanceof HttpError;
      if (!known) log.error({ err }, 'unhandled error in the introspection lane');
      if (res.headersSent) return void res.destroy();
      const body = known ? errorBody(err) : errorBody(new HttpError(500, 'server_error', 'internal server error'));
      res.writeHead(known ? err.status : 500, { ...headers, 'Cache-Control': 'no-store', 'Content-Type': 'application/json; charset=utf-8' }).end(body);
    });
  };
}

function errorBody(err: HttpError): string {
  return JSON.stringify({ error: err.error, error_description: err.description });
}

/** The source address as Koa gives it (ctx.ip): the first X-Forwarded-For entry when proxies are trusted. */
function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? firstValue(req.headers['x-forwarded-for']) : undefined;
  return (forwarded ? forwarded.split(',')[0]!.trim() : '') || req.socket.remoteAddress || '';
}

function firstValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}
