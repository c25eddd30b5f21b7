import { createServer, type Server } from 'node:http';
import type { Context, Next } from 'koa';
import { type Answer, errorAnswer } from '../http/answers.js';
import { ENDPOINTS } from '../http/endpoints.js';
import { HttpError, STANDARD_METHODS, temporarilyUnavailable } from '../http/errors.js';
import { sharedSecretCheck } from '../crypto/compare.js';
import type { Metrics } from './metrics.js';

/**
 * One request in the request counter and latency histogram; `started` is its performance.now().
 * The endpoint label is a route pattern or a known path, never the raw path: a client must not be
 * able to create label values (and memory) at will.
 */
export function countRequest(metrics: Metrics, endpoint: string, method: string, status: number, started: number): void {
  const knownMethod = STANDARD_METHODS.includes(method) ? method : 'other';
  metrics.httpRequests.inc({ endpoint, method: knownMethod, status: String(status) });
  metrics.httpDuration.observe({ endpoint, method: knownMethod, outcome: `${Math.floor(status / 100)}xx` }, (performance.now() - started) / 1000);
}

/** GET /metrics in Prometheus' text format, for a scraper that presents `Authorization: Bearer <token>`. */
export function serveMetrics(metrics: Metrics, token: string) {
  const isToken = sharedSecretCheck(token);
  return async function serveMetrics(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== ENDPOINTS.metrics.path || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const presented = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(ctx.get('authorization'))?.[1];
    if (presented === undefined || !isToken(presented)) {
      const challenge = `Bearer realm="tollgate-metrics"${presented === undefined ? '' : ', error="invalid_token"'}`;
      throw new HttpError(401, 'invalid_token', 'a Bearer token (METRICS_TOKEN) is required', { headers: { 'WWW-Authenticate': challenge } });
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.contentType;
    ctx.body = await metrics.scrape();
  };
}

/** What a scrape answers: Metrics, or in a cluster's primary, every worker's (src/cluster/metrics.ts). */
export type Scrapeable = Pick<Metrics, 'contentType' | 'scrape'>;

/** The metrics listener's error answers, made once. */
const STARTING = errorAnswer(temporarilyUnavailable('Tollgate is starting', '1'));
const NOT_SERVED = errorAnswer(new HttpError(404, 'not_found', 'only GET /metrics is served here'));
const NOT_COLLECTED = errorAnswer(new HttpError(500, 'server_error', 'the metrics could not be collected'));

/**
 * A separate listener that serves only GET /metrics (METRICS_PORT), for a private network; `metrics`
 * is undefined while start-up is under way, and answered 503 then. The caller listens.
 */
export function metricsServer(metrics: () => Scrapeable | undefined): Server {
  return createServer((req, res) => {
    const source = metrics();
    const send = ({ status, body, headers }: Answer) =>
      res.writeHead(status ?? 200, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(req.method === 'HEAD' ? undefined : body);
    if ((req.method === 'GET' || req.method === 'HEAD') && req.url?.split('?')[0] === ENDPOINTS.metrics.path) {
      if (!source) return void send(STARTING);
      source.scrape().then(
        (body) => {
          res.writeHead(200, { 'content-type': source.contentType, 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        () => send(NOT_COLLECTED),
      );
      return;
    }
    send(NOT_SERVED);
  });
}
