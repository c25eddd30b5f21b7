import { adminRoute, type AdminRoute } from '../admin/routes.js';
import type { AuditLog } from './audit-log.js';
import { auditPageSchema, listAuditEvents, listAuditInput } from './query.js';

/** GET /admin/audit: the audit trail, newest first. */
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
  ];
}
