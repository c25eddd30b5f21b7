import type { AuditLog } from '../audit/audit-log.js';
import { auditPageSchema, listAuditEvents, listAuditInput, pruneAuditEvents, pruneAuditInput, pruneResultSchema } from '../audit/query.js';
import { adminRoute, type AdminRoute } from './routes.js';

/** GET /admin/audit: the audit trail, newest first; POST /admin/audit/prune: deletes old events. */
export function auditRoutes(audit: AuditLog, db: Parameters<typeof listAuditEvents>[0]): AdminRoute[] {
  return [
    adminRoute({
      method: 'get',
      path: '/audit',
      summary: 'Query the audit trail, newest first',
      query: listAuditInput,
      status: 200,
      response: auditPageSchema,
      async handle(_ctx, { query }) {
        // What this instance has queued is written first, so a caller sees its own requests' events.
        await audit.flush();
        const { events, nextCursor } = await listAuditEvents(db, query);
        return { events, next_cursor: nextCursor };
      },
    }),
    adminRoute({
      method: 'post',
      path: '/audit/prune',
      summary: 'Delete audit events older than a number of days',
      description: 'Answers how many were deleted. AUDIT_RETENTION_DAYS prunes hourly; this prunes now, as far back as asked.',
      body: pruneAuditInput,
      status: 200,
      response: pruneResultSchema,
      handle: async (_ctx, { body }) => ({ deleted: await pruneAuditEvents(db, body.older_than_days) }),
    }),
  ];
}
