// The requests Tollgate serves most, answered in the HTTP server's handler, in front of Koa:
// introspection of a cached or unknown token, and client_credentials issuance, from a caller whose
// client and verified secret are in memory. Koa's share of such a request (a context, a chain of
// twenty middleware, an async step each) was most of its cost once the provider was out of it.
//
// A route decides from the headers and the form whether it can answer; anything else (a caller
// not yet verified, a token the provider must judge, any unusual parameter) goes to Koa untouched,
// with the body the lane has read, where the provider reads it. What the lane answers is what Koa
// would: its request id, security headers, log line, metrics, rate limits, 503 for a database
// outage and audit events come from the functions Koa's middleware uses.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import type { Logger } from 'pino';
import type { RequestLike } from '../audit/types.js';
import type { Caches } from '../cache/caches.js';
import type { SecretVerifier } from '../clients/secrets.js';
import type { Client } from '../db/database.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { errorBody, HttpError } from '../http/errors.js';
import { logRequest, requestIdFor, requestLineLogger, securityHeaderValues } from '../http/middleware.js';
import { MAX_BODY_BYTES } from '../http/request-limits.js';
import { DATABASE_UNAVAILABLE, reportDatabaseUnavailable, RETRY_AFTER_UNAVAILABLE } from '../http/unavailable.js';
import { countRequest } from '../metrics/http.js';
import type { Metrics } from '../metrics/metrics.js';
import { RateLimitError, type RateLimits } from '../rate-limit/limits.js';
import { limitEndpointRequest, type LimitedEndpoint } from '../rate-limit/middleware.js';
import { basicCredentials, isRemembered, readBody } from './form-request.js';

const FORM = /^application\/x-www-form-urlencoded\s*(;\s*charset=utf-8\s*)?$/i;

/** The answer's JSON, made once the request has passed the rate limits; undefined hands it to Koa after all. */
export type LaneWork = (request: RequestLike) => Promise<string | undefined>;

/** One endpoint the lane serves. */
export interface LaneRoute {
  /** The endpoint's rate limits. */
  endpoint: LimitedEndpoint;
  /** Its label in tollgate_fast_path_answers_total. */
  answeredAs: string;
  /** Headers the provider adds to the endpoint's answers (its CORS headers for a request without Origin). */
  headers: Record<string, string>;
  /** Conditions on the headers and the caller beyond the lane's own. */
  accepts(req: IncomingMessage, caller: Client): boolean;
  /** From the form: the work that answers the request, or undefined to pass it to Koa. */
  plan(params: ParsedUrlQuery, caller: Client): Promise<LaneWork | undefined>;
}

export interface LaneDeps {
  routes: Record<string, LaneRoute>;
  issuer: string;
  trustProxy: boolean;
  caches: Caches;
  secrets: SecretVerifier;
  limits: RateLimits;
  metrics: Metrics;
  log: Logger;
}

export function fastLane(deps: LaneDeps, koa: RequestListener): RequestListener {
  const { caches, secrets, metrics, log } = deps;
  const headers = securityHeaderValues(deps.issuer);
  const lines = requestLineLogger(log);
  const routes = new Map(Object.entries(deps.routes));

  /** The route and verified caller of a request the lane may take, from its headers alone. */
  function take(req: IncomingMessage): { route: LaneRoute; caller: Client } | undefined {
    const route = req.method === 'POST' && req.url ? routes.get(req.url) : undefined;
    if (!route || !caches.usable) return undefined;
    const { 'content-type': type, 'content-length': length, authorization } = req.headers;
    if (!type || !FORM.test(type) || !length || !(Number(length) <= MAX_BODY_BYTES) || req.headers['transfer-encoding']) return undefined;
    // Client attestation, and CORS (the provider checks an Origin against the client), are the provider's.
    if (req.headers.origin || req.headers['oauth-client-attestation'] || req.headers['oauth-client-attestation-pop']) return undefined;
    const credentials = basicCredentials(authorization ?? '');
    const caller = credentials && caches.cachedClient(credentials.id);
    if (!caller || !isRemembered(caller, credentials.secret, secrets)) return undefined;
    return route.accepts(req, caller) ? { route, caller } : undefined;
  }

  async function serve(req: IncomingMessage, res: ServerResponse, { route, caller }: { route: LaneRoute; caller: Client }, started: number): Promise<void> {
    const raw = await readBody(req);
    const work = await route.plan(parseQuery(raw.toString('utf8')), caller);
    const toKoa = () => {
      // With the body already read: the provider and cacheIntrospections read it from here.
      (req as { body?: Buffer }).body = raw;
      koa(req, res);
    };
    if (!work) return toKoa();
    const requestId = requestIdFor(firstValue(req.headers['x-request-id']));
    const ip = clientIp(req, deps.trustProxy);
    let status = 200;
    let body: string | undefined;
    let extra: Record<string, string> | undefined;
    try {
      await limitEndpointRequest(deps.limits, route.endpoint, ip, caller.id);
      body = await work({ ip, state: { requestId } });
      if (body === undefined) return toKoa();
      metrics.fastAnswers.inc({ path: route.answeredAs });
      extra = route.headers;
    } catch (err) {
      if (err instanceof RateLimitError) {
        [status, body, extra] = [429, JSON.stringify(errorBody(err)), { 'Retry-After': String(err.retryAfterSeconds) }];
      } else if (!(err instanceof HttpError) && isDatabaseUnavailable(err)) {
        reportDatabaseUnavailable(metrics, log, err, requestId);
        [status, body, extra] = [503, JSON.stringify(DATABASE_UNAVAILABLE), { 'Retry-After': RETRY_AFTER_UNAVAILABLE }];
      } else {
        throw err;
      }
    }
    res.writeHead(status, { 'X-Request-Id': requestId, ...headers, 'Cache-Control': 'no-store', ...extra, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    logRequest(lines, { requestId, method: 'POST', path: req.url!, status, started });
    countRequest(metrics, req.url!, 'POST', status, started);
  }

  return function fastLane(req, res) {
    const taken = take(req);
    if (!taken) return koa(req, res);
    serve(req, res, taken, performance.now()).catch((err: unknown) => {
      const known = err instanceof HttpError;
      if (!known) log.error({ err }, 'unhandled error in the fast lane');
      if (res.headersSent) return void res.destroy();
      const body = JSON.stringify(errorBody(known ? err : new HttpError(500, 'server_error', 'internal server error')));
      res.writeHead(known ? err.status : 500, { ...headers, 'Cache-Control': 'no-store', 'Content-Type': 'application/json; charset=utf-8' }).end(body);
    });
  };
}

/** The source address as Koa gives it (ctx.ip): the first X-Forwarded-For entry when proxies are trusted. */
function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? firstValue(req.headers['x-forwarded-for']) : undefined;
  return (forwarded ? forwarded.split(',')[0]!.trim() : '') || req.socket.remoteAddress || '';
}

function firstValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}
