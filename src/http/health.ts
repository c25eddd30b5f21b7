import type { RequestListener } from 'node:http';
import type { Context, Next } from 'koa';
import type { Database } from '../db/database.js';
import { errorAnswer } from './answers.js';
import { ENDPOINTS } from './endpoints.js';
import { temporarilyUnavailable } from './errors.js';

/** GET /healthz: the process is up. GET /readyz: the database answers and is fully migrated. */
export function health(db: Database, timeoutMs = 2000) {
  return async function health(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === ENDPOINTS.healthz.path) {
      ctx.body = { status: 'ok' };
    } else if (ctx.path === ENDPOINTS.readyz.path) {
      // Time-boxed: a database that does not answer is as unready as one that refuses.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('readiness check timed out')), timeoutMs);
      });
      const ready = await Promise.race([db.checkReady(), timeout]).then(
        () => true,
        () => false,
      );
      clearTimeout(timer);
      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : 'unavailable', database: db.kind };
    } else {
      return next();
    }
    ctx.set('Cache-Control', 'no-store');
  };
}

/**
 * What answers while start-up is under way (the port is taken first, so a port in use is found
 * before anything is created): GET /healthz says the process is up; /readyz and everything else
 * is 503, the latter temporarily_unavailable with Retry-After.
 */
export function whileStarting(issuerPath: string): RequestListener {
  const starting = errorAnswer(temporarilyUnavailable('Tollgate is starting; retry shortly', '1'));
  return function whileStarting(req, res) {
    const path = req.url?.split('?')[0];
    const { status, body, headers } =
      path === `${issuerPath}${ENDPOINTS.healthz.path}` && (req.method === 'GET' || req.method === 'HEAD')
        ? { status: 200, body: '{"status":"ok"}' }
        : path === `${issuerPath}${ENDPOINTS.readyz.path}`
          ? { status: 503, body: '{"status":"starting"}' }
          : starting;
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
