import type { Context, Next } from 'koa';
import type { Database } from '../db/database.js';

/** GET /healthz: the process is up. GET /readyz: the database answers and is fully migrated. */
export function health(db: Database, timeoutMs = 2000) {
  return async function health(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
    } else if (ctx.path === '/readyz') {
      // Time-boxed: a database that does not answer is as unready as one that refuses.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('readiness check timed out')), timeoutMs);
      });
      const ready = await Promise.race([db.checkReady(), timeout]).then(() => true, () => false);
      clearTimeout(timer);
      ctx.status = ready ? 200 : 503;
      ctx.body = { status: ready ? 'ready' : 'unavailable', database: db.kind };
    } else {
      return next();
    }
    ctx.set('Cache-Control', 'no-store');
  };
}
