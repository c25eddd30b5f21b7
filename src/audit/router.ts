import Router from '@koa/router';
import { parseInput } from '../http/validate.js';
import type { AuditLog } from './audit-log.js';
import { listAuditEvents, listAuditInput } from './query.js';

/** GET /admin/audit; the caller mounts it behind requireAdminToken. */
export function auditRouter(audit: AuditLog, db: Parameters<typeof listAuditEvents>[0]): Router {
  const router = new Router({ prefix: '/admin' });
  router.get('/audit', async (ctx) => {
    const input = parseInput(listAuditInput, ctx.query);
    // What this instance has queued is written first, so a caller sees its own requests' events.
    await audit.flush();
    const { events, nextCursor } = await listAuditEvents(db, input);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { events, next_cursor: nextCursor };
  });
  return router;
}
