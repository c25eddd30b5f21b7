import type { RequestListener } from 'node:http';
import Koa from 'koa';
import mount from 'koa-mount';
import type { Logger } from 'pino';
import { requireAdminToken } from './admin/auth.js';
import { Caches } from './cache/caches.js';
import { LocalBus, type InvalidationBus } from './cache/invalidation.js';
import { adminRouter } from './admin/router.js';
import { auditAdminActions } from './audit/admin-events.js';
import { AuditLog } from './audit/audit-log.js';
import { auditRouter } from './audit/router.js';
import { SecretVerifier } from './clients/secrets.js';
import { ClientService } from './clients/service.js';
import type { Config } from './config/config.js';
import type { Database } from './db/database.js';
import { HttpError, renderErrors } from './http/errors.js';
import { health } from './http/health.js';
import { logRequests, securityHeaders } from './http/middleware.js';
import { limitRequestBody } from './http/request-limits.js';
import { operationalErrors } from './http/unavailable.js';
import { observeRequests, serveMetrics } from './metrics/http.js';
import { Metrics } from './metrics/metrics.js';
import { RateLimits } from './rate-limit/limits.js';
import { guardAdmin, limitProviderEndpoints } from './rate-limit/middleware.js';
import { verifyAccessToken } from './oidc/access-tokens.js';
import { discovery, isServedProviderPath, SERVED_PROVIDER_PATHS } from './oidc/discovery.js';
import { derivedSecret, type ProviderKeys } from './oidc/keys.js';
import { SecurityEvents, type SecurityEvent } from './oidc/security-events.js';
import { adminUsersRouter } from './admin/users-router.js';
import { CsrfTokens } from './interactions/csrf.js';
import { assets } from './interactions/pages.js';
import { interactionRouter } from './interactions/router.js';
import { UserService } from './users/service.js';
import { auditIntrospection } from './oidc/operations.js';
import { createProvider, ROUTES } from './oidc/provider.js';
import type Provider from 'oidc-provider';
import { cacheIntrospections, introspectionRoute } from './tokens/fast-introspection.js';
import { issuanceRoute } from './tokens/fast-issuance.js';
import { fastLane } from './tokens/lane.js';
import { clientCredentialsMinter } from './oidc/client-credentials.js';

const POST_ONLY_PATHS = new Set<string>([ROUTES.token, ROUTES.introspection, ROUTES.revocation]);
/** Paths that are their own metrics label; router routes use their pattern, anything else is "other". */
const KNOWN_PATHS = new Set<string>([...SERVED_PROVIDER_PATHS, '/.well-known/oauth-authorization-server', '/healthz', '/readyz', '/metrics']);

export interface AppDeps {
  config: Config;
  db: Database;
  keys: ProviderKeys;
  log: Logger;
  /** How cache invalidations reach other instances; in-process only when not given. */
  invalidation?: InvalidationBus;
}

export interface App {
  koa: Koa;
  /** The HTTP request handler: the fast lane in front of Koa. */
  handler: RequestListener;
  clients: ClientService;
  caches: Caches;
  /** The audit trail: `app.audit.record({ type, clientId, subject, ... }, ctx)` (src/audit/types.ts). */
  audit: AuditLog;
  metrics: Metrics;
  /** Named rate limits, e.g. `limits.penalize('login_failures_user', username)`. */
  limits: RateLimits;
  users: UserService;
  /** Security events of the user flows (refresh-token reuse, sign-ins): `events.on(listener)`. */
  events: SecurityEvents;
  /** The oidc-provider instance; its events tell which requests it answered itself. */
  provider: Provider;
}

/** Builds the HTTP application from its dependencies; it listens on nothing and starts no timers. */
export function buildApp({ config, db, keys, log, invalidation }: AppDeps): App {
  const secrets = new SecretVerifier(config.secretCacheSize, config.hashCost);
  const caches = new Caches(invalidation ?? new LocalBus(), secrets, config);
  const clients = new ClientService(db, secrets, caches);
  const audit = new AuditLog(db, log, config.audit);
  const limits = new RateLimits(config, log, (limit) => metrics.rateLimited.inc({ limit }));
  const metrics = new Metrics({ audit: () => ({ depth: audit.depth, ...audit.stats }), pool: db.poolStats, rateLimitStoreUp: () => limits.storeUp() });
  const events = new SecurityEvents(log);
  // Revoking a user's grants must reach every instance's token cache, as the provider's own revocations do.
  const users = new UserService(db, { grantsRevoked: async (grantIds) => void (await Promise.all(grantIds.map((id) => caches.bus.publish({ kind: 'grant', id })))) }, config.hashCost);
  events.on((event) => recordSecurityEvent(event, audit, metrics));
  const provider = createProvider({ config, db, clients, secrets, keys, log, users, events, operations: { audit, metrics, limits } });
  caches.watch(provider);
  const admin = adminRouter(clients);

  const koa = new Koa({ proxy: config.trustProxy });
  koa.silent = true;
  // oidc-provider runs inside this app (koa-mount), so its cookies are signed with this app's keys;
  // the provider's own contexts (interactionDetails) check them with the same keys.
  koa.keys = keys.cookieKeys;
  koa.use(logRequests(log));
  koa.use(observeRequests(metrics, KNOWN_PATHS));
  koa.use(renderErrors(log));
  koa.use(operationalErrors(metrics, log));
  koa.use(securityHeaders(config.issuer));
  koa.use(health(db));
  // With METRICS_PORT the metrics are served there only (src/server.ts).
  if (config.metricsPort === undefined) koa.use(serveMetrics(metrics));
  koa.use(limitRequestBody);
  koa.use(limitProviderEndpoints(limits, { [ROUTES.token]: 'token', [ROUTES.introspection]: 'introspect', [ROUTES.revocation]: 'revoke' }));
  // Keeps the provider's introspection answers for the lane, ahead of routers it has nothing to do with.
  koa.use(auditIntrospection(audit, ROUTES.introspection));
  koa.use(cacheIntrospections({ path: ROUTES.introspection, caches, clients, secrets }));
  koa.use(auditAdminActions(audit));
  const adminOnly = requireAdminToken((token) => verifyAccessToken(provider, token));
  koa.use(guardAdmin(limits, adminOnly));
  koa.use(auditRouter(audit, db).routes());
  koa.use(admin.routes());
  koa.use(admin.allowedMethods({ throw: true }));
  const adminUsers = adminUsersRouter(users);
  koa.use(adminUsers.routes());
  koa.use(adminUsers.allowedMethods({ throw: true }));
  koa.use(assets);
  const interactions = interactionRouter({
    provider,
    users,
    config,
    events,
    csrf: new CsrfTokens(derivedSecret(keys, 'tollgate csrf')),
    // Failed sign-ins count against the user name and the source address (RATE_LIMIT_LOGIN_FAILURES_*).
    loginThrottle: {
      check: async (login, ip) => {
        await limits.check('login_failures_user', login.trim().toLowerCase());
        await limits.check('login_failures_ip', ip);
      },
      failed: async (login, ip) => {
        await limits.penalize('login_failures_user', login.trim().toLowerCase());
        await limits.penalize('login_failures_ip', ip);
      },
      succeeded: (login) => limits.reset('login_failures_user', login.trim().toLowerCase()),
    },
  });
  koa.use(interactions.routes());
  koa.use(discovery);
  const providerApp = mount(provider);
  // Deny by default: only the endpoints Tollgate documents reach the provider.
  koa.use(async (ctx, next) => {
    if (!isServedProviderPath(ctx.path)) return next();
    await providerApp(ctx, next);
    // The provider routes only POST (and CORS preflights) here; another method is told so, not "no such endpoint".
    if (ctx.status === 404 && ctx.body === undefined && POST_ONLY_PATHS.has(ctx.path)) {
      ctx.set('Allow', 'POST');
      throw new HttpError(405, 'invalid_request', `${ctx.path} accepts POST only`);
    }
  });
  // Token requests and introspections of known callers are answered before Koa (src/tokens/lane.ts).
  const routes = {
    [ROUTES.token]: issuanceRoute({ mint: clientCredentialsMinter(provider, config), operations: { audit, metrics } }),
    [ROUTES.introspection]: introspectionRoute({ db, caches, audit }),
  };
  const handler = fastLane({ routes, issuer: config.issuer, trustProxy: config.trustProxy, caches, secrets, limits, metrics, log }, koa.callback());
  return { koa, handler, clients, caches, audit, metrics, limits, users, events, provider };
}

/** The user flows' security events in the audit trail and metrics (src/oidc/security-events.ts emits them all). */
function recordSecurityEvent(event: SecurityEvent, audit: AuditLog, metrics: Metrics): void {
  const request = { ip: event.ip ?? '', state: { requestId: event.requestId } };
  const common = { clientId: event.clientId, subject: event.accountId, grantId: event.grantId, details: { reason: event.reason } };
  switch (event.type) {
    case 'refresh_token.reuse_detected':
      metrics.refreshReuse.inc();
      audit.record({ type: 'token.refresh_reuse_detected', outcome: 'failure', actor: event.clientId, ...common }, request);
      break;
    case 'authorization_code.reuse_detected':
      audit.record({ type: 'token.code_reuse_detected', outcome: 'failure', actor: event.clientId, ...common }, request);
      break;
    case 'refresh_token.grace_used':
      audit.record({ type: 'token.refresh_grace_used', actor: event.clientId, ...common }, request);
      break;
    case 'user.login_succeeded':
    case 'user.login_failed':
      audit.record({ type: 'user.login', outcome: event.type === 'user.login_succeeded' ? 'success' : 'failure', actor: event.accountId, ...common }, request);
      break;
  }
}
