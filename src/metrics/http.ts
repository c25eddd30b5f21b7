import { createServer, type Server } from 'node:http';
import type { Context, Next } from 'koa';
import type { Metrics } from './metrics.js';

/**
 * One request in the request counter and latency histogram; `started` is its performance.now().
 * The endpoint label is a route pattern or a known path, never the raw path: a client must not be
 * able to create label values (and memory) at will.
 */
export function countRequest(metrics: Metrics, endpoint: string, method: string, status: number, started: number): void {
  const knownMethod = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/.test(method) ? method : 'other';
  metrics.httpRequests.inc({ endpoint, method: knownMethod, status: String(status) });
  metrics.httpDuration.observe({ endpoint, method: knownMethod, outcome: `${Math.floor(status / 100)}xx` }, (performance.now() - started) / 1000);
}

/** GET /metrics in Prometheus' text format. */
export function serveMetrics(metrics: Metrics) {
  return async function serveMetrics(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/metrics' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  };
}

/** A separate listener that serves only GET /metrics (METRICS_PORT), for a private network. */
export async function startMetricsServer(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && req.url?.split('?')[0] === '/metrics') {
      metrics.registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : body);
        },
        () => {
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","error_description":"only GET /metrics is served here"}');
  });
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return server;
}
