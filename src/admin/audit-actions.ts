import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { AuditLog } from '../audit/audit-log.js';
import { requestLabels } from '../http/route-labels.js';
import { isAdminPath } from './routes.js';
import { httpErrorOf } from '../http/errors.js';

/** The admin API's changes, by route pattern and method, as audit event types. */
const ACTIONS: Record<string, string> = {
  'POST /admin/clients': 'client.created',
  'PATCH /admin/clients/:id': 'client.updated',
  'DELETE /admin/clients/:id': 'client.deleted',
  'POST /admin/clients/:id/secret': 'client.secret_rotated',
  'POST /admin/users': 'user.created',
  'PATCH /admin/users/:id': 'user.updated',
  'DELETE /admin/users/:id': 'user.deleted',
  'DELETE /admin/users/:id/consents/:clientId': 'user.consent_revoked',
  'POST /admin/resource-servers': 'resource_server.created',
  'PATCH /admin/resource-servers/:id': 'resource_server.updated',
  'DELETE /admin/resource-servers/:id': 'resource_server.deleted',
  'PUT /admin/resource-servers/:id/routes': 'resource_server.routes_updated',
  'POST /admin/keys/rotate': 'keys.rotated',
  'POST /admin/audit/prune': 'audit.pruned',
};

/**
 * Records every change made through the admin API, whatever its outcome, and every refused admin
 * request (no, bad or insufficient token). Reads answer no event. Mounted in front of the admin
 * token check, so it sees its 401s and 403s. A request's route is its pattern in `router`, whether
 * or not the router ran (a refusal before it, such as a body that is not JSON, is the route's too).
 */
export function auditAdminActions(audit: AuditLog, router: Router) {
  const routeOf = requestLabels({ known: [], routers: [router] });
  return async function auditAdminActions(ctx: Context, next: Next): Promise<void> {
    if (!isAdminPath(ctx.path)) return next();
    let status: number | undefined;
    let errorCode: string | undefined;
    try {
      await next();
    } catch (err) {
      // Not rendered yet (renderErrors is further out): the error carries the status it will get.
      const known = httpErrorOf(err);
      const errStatus = known?.status ?? (err as { status?: unknown })?.status;
      status = typeof errStatus === 'number' ? errStatus : 500;
      errorCode = known?.error;
      throw err;
    } finally {
      status ??= ctx.status;
      const actor = typeof ctx.state.adminActor === 'string' ? ctx.state.adminActor : undefined;
      const route = routeOf(ctx.path) ?? 'other';
      const type = ACTIONS[`${ctx.method} ${route}`];
      const outcome = status < 400 ? 'success' : 'failure';
      if (status === 401 || status === 403) {
        audit.record({ type: 'admin.denied', outcome: 'failure', actor, details: { method: ctx.method, route, status } }, ctx);
      } else if (type) {
        const body = (ctx.body ?? {}) as Record<string, unknown>;
        const request = (ctx.request.body ?? {}) as Record<string, unknown>;
        const isUser = type.startsWith('user.');
        const isResourceServer = type.startsWith('resource_server.');
        const pick = (...values: unknown[]) => values.find((v): v is string => typeof v === 'string');
        const clientId = isUser ? pick(ctx.params?.clientId) : isResourceServer ? undefined : pick(ctx.params?.id, body.client_id);
        const subject = isUser ? pick(ctx.params?.id, body.id) : undefined;
        audit.record(
          {
            type,
            outcome,
            actor,
            clientId,
            subject,
            details: {
              status,
              error: status >= 400 ? (errorCode ?? (typeof body.error === 'string' ? body.error : undefined)) : undefined,
              // Which fields changed, never their values' secrets (a client has none in its metadata).
              fields: /\.(created|updated)$/.test(type) ? Object.keys(request).slice(0, 20) : undefined,
              resource_server_id: isResourceServer ? pick(ctx.params?.id, body.id) : undefined,
              overlap_seconds: type === 'client.secret_rotated' && typeof request.overlap_seconds === 'number' ? request.overlap_seconds : undefined,
              older_than_days: type === 'audit.pruned' && typeof request.older_than_days === 'number' ? request.older_than_days : undefined,
              deleted: type === 'audit.pruned' && typeof body.deleted === 'number' ? body.deleted : undefined,
            },
          },
          ctx,
        );
      }
    }
  };
}
