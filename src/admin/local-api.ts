// The admin API for callers on this machine: the admin CLI, through a running server's admin
// socket (src/admin/socket.ts) or, with no server running, in its own process (src/admin/direct-api.ts).
// Same routes, services and audit trail as the TCP admin API; the caller is the built-in
// administrator, because reaching it at all took the server's file permissions or its database.
import { hostname, userInfo } from 'node:os';
import Koa, { type Middleware } from 'koa';
import type { AuditLog } from '../audit/audit-log.js';
import type { ClientService } from '../clients/service.js';
import type { Database } from '../db/database.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { ResourceServerService } from '../resource-servers/service.js';
import type { UserService } from '../users/service.js';
import { auditAdminActions } from './audit-actions.js';
import { auditRoutes } from './audit-router.js';
import { gatewayRouteRoutes } from './gateway-routes-router.js';
import { keyRoutes } from './keys-router.js';
import { resourceServerRoutes } from './resource-servers-router.js';
import { clientRoutes } from './router.js';
import { adminApiRouter, type AdminRoute } from './routes.js';
import { userRoutes } from './users-router.js';

export interface AdminServices {
  clients: ClientService;
  users: UserService;
  resourceServers: ResourceServerService;
  audit: AuditLog;
  db: Database;
  /** What POST /admin/keys/rotate needs of the key ring. */
  keys: Pick<KeyRing, 'rotate'>;
}

/** Every route of the admin API. `root`: the issuer's path, for Location headers. */
export function adminRouteTable({ clients, users, resourceServers, audit, db, keys }: AdminServices, root = ''): AdminRoute[] {
  return [
    ...clientRoutes(clients, root),
    ...userRoutes(users, root),
    ...resourceServerRoutes(resourceServers, root),
    ...gatewayRouteRoutes(resourceServers),
    ...auditRoutes(audit, db),
    ...keyRoutes(keys, db),
  ];
}

/**
 * Who acts through the local admin API, in the audit trail: `cli:<os user>@<host>`. The socket
 * admits only the server's own user (and root), so the server's user is the one who connected.
 */
export function cliActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): the host name still says where it ran
  }
  return `cli:${user}@${hostname()}`.slice(0, 256);
}

/**
 * The Koa app answering local callers: `errors` (outermost) render failures, every change is audited
 * with the CLI's actor, and the admin routes answer. No token is asked for.
 */
export function localAdminApp(routes: readonly AdminRoute[], audit: AuditLog, errors: Middleware[]): Koa {
  const koa = new Koa();
  koa.silent = true;
  const actor = cliActor();
  for (const middleware of errors) koa.use(middleware);
  const router = adminApiRouter(routes);
  koa.use(auditAdminActions(audit, router));
  koa.use(async (ctx, next) => {
    ctx.state.adminActor = actor;
    await next();
  });
  koa.use(router.routes());
  koa.use(router.allowedMethods({ throw: true }));
  return koa;
}
