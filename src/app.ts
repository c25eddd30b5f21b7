import cluster from 'node:cluster';
import type { RequestListener } from 'node:http';
import Koa from 'koa';
import mount from 'koa-mount';
import type { Logger } from 'pino';
import { guardAdmin, requireAdminToken } from './admin/auth.js';
import type { Caches } from './cache/caches.js';
import { LocalBus, type InvalidationBus } from './cache/invalidation.js';
import { auditAdminActions } from './admin/audit-actions.js';
import type { AuditLog } from './audit/audit-log.js';
import type { Argon2Gate, HashCheck } from './clients/argon2-gate.js';
import type { ClientService } from './clients/service.js';
import type { Config } from './config/config.js';
import type { Database } from './db/database.js';
import { renderErrors } from './http/errors.js';
import { health } from './http/health.js';
import { adoptExchange, seeRequestsAsIssuer } from './http/middleware.js';
import { requestPipeline, type Pipeline } from './http/pipeline.js';
import { endpointTable } from './http/endpoint-table.js';
import { ENDPOINTS, isServedProviderPath, knownPaths, wellKnownPaths } from './http/endpoints.js';
import { shareWorkerMetrics } from './cluster/metrics.js';
import { serveMetrics } from './metrics/http.js';
import { Metrics } from './metrics/metrics.js';
import { RateLimits } from './rate-limit/limits.js';
import { verifyAccessToken } from './oidc/access-tokens.js';
import { discovery } from './oidc/discovery.js';
import type { KeyRing } from './keys/key-ring.js';
import { SecurityEvents, type SecurityEvent } from './oidc/security-events.js';
import type { ResourceServerService } from './resource-servers/service.js';
import { withOpenApiDocument } from './admin/openapi.js';
import { adminApiRouter, type AdminRoute } from './admin/routes.js';
import { adminRouteTable } from './admin/local-api.js';
import { CsrfTokens } from './interactions/csrf.js';
import { assets } from './http/pages.js';
import { interactionRouter } from './interactions/router.js';
import { CounterHistory } from './console/counter-history.js';
import { consoleApp } from './console/router.js';
import { SignInThrottle } from './users/sign-in-throttle.js';
import type { UserService } from './users/service.js';
import { auditIntrospection } from './oidc/operations.js';
import { createProvider } from './oidc/provider.js';
import type Provider from 'oidc-provider';
import { cacheIntrospections, introspectionHandler } from './tokens/introspection-handler.js';
import { issuanceHandler } from './tokens/issuance-handler.js';
import { revocationHandler } from './tokens/revocation-handler.js';
import { issuedTokenFinder } from './oidc/issued-tokens.js';
import { clientCredentialsMinter } from './oidc/client-credentials-minter.js';
import { tokenStore } from './tokens/store/token-store.js';
import { ClientAuthenticator } from './clients/authentication.js';
import { gatewayListener } from './gateway/listener.js';
import { createServices } from './services.js';

export interface AppDeps {
  config: Config;
  db: Database;
  /** The provider's keys, as they change phase (src/keys/key-ring.ts). */
  keys: KeyRing;
  log: Logger;
  /** How cache invalidations reach other instances; in-process only when not given. */
  invalidation?: InvalidationBus;
  /** What verifies an argon2 hash; argon2 itself when not given (tests hold verifications with their own). */
  hashCheck?: HashCheck;
  /** Where this process's listener answers (http://127.0.0.1:3000): the console redeems its codes there. ISSUER when not given. */
  localUrl?: string;
}

export interface App {
  koa: Koa;
  /** The HTTP request handler: the request pipeline, in front of the endpoints' handlers and Koa. */
  handler: RequestListener;
  /** With GATEWAY_PORT: that port's handler, the same pipeline in front of the gateway check alone. */
  gatewayHandler?: RequestListener;
  pipeline: Pipeline;
  clients: ClientService;
  /** The APIs tokens are issued for (RFC 8707). */
  resourceServers: ResourceServerService;
  caches: Caches;
  /** The audit trail: `app.audit.record({ type, clientId, subject, ... }, ctx)` (src/audit/types.ts). */
  audit: AuditLog;
  metrics: Metrics;
  /** Named rate limits, e.g. `limits.penalize('login_failures_ip', ip)`. */
  limits: RateLimits;
  /** The one gate every argon2 verification passes. */
  argon2: Argon2Gate;
  users: UserService;
  /** Security events of the user flows (refresh-token reuse, sign-ins): `events.on(listener)`. */
  events: SecurityEvents;
  /** The provider's keys: `keys.tick()` makes the phase changes due now, as the schedule does. */
  keys: KeyRing;
  /** The oidc-provider instance; its events tell which requests it answered itself. */
  provider: Provider;
  /** The admin API's routes, which the admin socket serves too (src/admin/socket.ts). */
  adminRoutes: AdminRoute[];
  /** Opens what building must not: the process metrics' sampling, then the rate limits' Redis connection. */
  start(): Promise<void>;
  /** In reverse: closes the Redis connection, then writes the queued audit events. */
  close(): Promise<void>;
}

/**
 * Builds the HTTP application from its dependencies: it opens no connection, listens on nothing
 * and starts no timer until `start()` (src/server.ts).
 */
export function buildApp({ config, db, keys, log, invalidation, localUrl, hashCheck }: AppDeps): App {
  const { argon2, secrets, caches, clients, resourceServers, users, audit } = createServices(db, invalidation ?? new LocalBus(), config, log, hashCheck);
  const limits = new RateLimits(config, log, (limit) => metrics.rateLimited.inc({ limit }));
  const metrics = new Metrics({
    audit: () => ({ depth: audit.depth, ...audit.stats }),
    pool: db.poolStats,
    // Only with Redis is there a store that can be up or down.
    rateLimitStore: config.redis && config.rateLimit.enabled ? () => limits.store() : undefined,
    argon2: () => ({ ...argon2.stats, inFlight: argon2.inFlight, queued: argon2.queued }),
    shareWithCluster: cluster.isWorker ? shareWorkerMetrics : undefined,
  });
  const events = new SecurityEvents(log);
  events.on((event) => recordSecurityEvent(event, audit, metrics));
  const authenticator = new ClientAuthenticator(secrets, limits);
  const operations = { audit, metrics, limits, log };
  const provider = createProvider({ config, db, clients, resourceServers, authenticator, keys, log, users, events, operations });
  caches.watch(provider);
  const adminRoutes = withOpenApiDocument(
    adminRouteTable({ clients, users, resourceServers, audit, db, keys }, config.issuerPath),
    config.issuer,
    ENDPOINTS.token.path,
  );
  const admin = adminApiRouter(adminRoutes);

  const koa = new Koa();
  koa.silent = true;
  seeRequestsAsIssuer(koa, config.issuer);
  // oidc-provider runs inside this app (koa-mount), so its cookies are signed with this app's keys;
  // the provider's own contexts (interactionDetails) check them with the same keys.
  koa.keys = keys.cookieKeys;
  koa.use(adoptExchange);
  koa.use(renderErrors({ metrics, log }));
  koa.use(health(db));
  // With METRICS_PORT the metrics are served there only (src/server.ts); here, only with METRICS_TOKEN.
  if (config.metrics.port === undefined && config.metrics.token) koa.use(serveMetrics(metrics, config.metrics.token));
  // Keeps the provider's introspection answers for the introspection handler, ahead of routers it has nothing to do with.
  koa.use(auditIntrospection(audit, ENDPOINTS.introspect.path));
  koa.use(cacheIntrospections(ENDPOINTS.introspect.path, caches));
  koa.use(auditAdminActions(audit, admin));
  const adminOnly = requireAdminToken((token) => verifyAccessToken(provider, resourceServers, token));
  koa.use(guardAdmin(limits, adminOnly));
  koa.use(admin.routes());
  koa.use(admin.allowedMethods({ throw: true }));
  koa.use(assets);
  const interactions = interactionRouter({
    provider,
    users,
    config,
    events,
    csrf: new CsrfTokens(keys.current.secrets.csrf),
    loginThrottle: new SignInThrottle(limits, config.rateLimit),
  });
  koa.use(interactions.routes());
  const refusals = new CounterHistory(metrics.rateLimited);
  const consolePages = consoleApp({
    config,
    db,
    clients,
    users,
    resourceServers,
    audit,
    metrics,
    refusals,
    provider,
    keys,
    log,
    localUrl: () => localUrl ?? config.issuer,
  });
  koa.use(consolePages.serve);
  koa.use(discovery);
  const providerApp = mount(provider);
  // Deny by default: only the endpoints Tollgate documents reach the provider.
  koa.use(async (ctx, next) => {
    if (!isServedProviderPath(ctx.path)) return next();
    // oidc-provider puts this before its routes in the URLs it makes (Context.oidc.urlFor).
    (ctx as { mountPath?: string }).mountPath = config.issuerPath;
    await providerApp(ctx, next);
  });

  const tokens = tokenStore(db);
  const callers = { issuer: config.issuer, clients, authenticator, operations };
  const endpoints = endpointTable('issuer', {
    handlers: {
      token: issuanceHandler({ ...callers, mint: clientCredentialsMinter(provider, config), defaultResource: config.defaultResource, resourceServers }),
      introspect: introspectionHandler({ ...callers, caches, resourceServers, tokenMayExist: (hash) => tokens.liveTokenExists(hash) }),
      revoke: revocationHandler({ ...callers, findToken: issuedTokenFinder(provider) }),
    },
    settings: { jwksCacheSeconds: config.keys.jwksCacheSeconds },
    served: config.metrics.port === undefined && config.metrics.token ? ['metrics'] : [],
  });
  const pipeline = requestPipeline(
    {
      endpoints,
      // The routers' paths are labelled by their patterns.
      knownPaths: knownPaths('issuer'),
      routers: [admin, interactions, consolePages.router],
      issuer: config.issuer,
      issuerPath: config.issuerPath,
      wellKnown: wellKnownPaths('issuer'),
      trustedProxies: config.trustedProxies,
      limits,
      metrics,
      log,
    },
    koa.callback(),
  );
  const gatewayHandler =
    config.gateway.port === undefined ? undefined : gatewayListener({ config, db, caches, resourceServers, provider, keys, limits, metrics, log, audit });
  const start = async () => {
    keys.start();
    metrics.start();
    refusals.start();
    await limits.start();
  };
  const close = async () => {
    keys.close();
    refusals.stop();
    await limits.close();
    await audit.close();
  };
  return {
    koa,
    handler: pipeline.listener,
    gatewayHandler,
    pipeline,
    clients,
    resourceServers,
    caches,
    audit,
    metrics,
    limits,
    argon2,
    users,
    events,
    keys,
    provider,
    adminRoutes,
    start,
    close,
  };
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
      audit.record({ type: 'user.login', actor: event.accountId, ...common }, request);
      break;
    case 'user.login_failed':
      audit.record({ type: 'user.login', outcome: 'failure', ...common }, request);
      break;
    case 'user.login_throttled':
      audit.record(
        { type: 'user.login_throttled', outcome: 'failure', ...common, details: { reason: event.reason, retry_after: event.retryAfterSeconds } },
        request,
      );
      break;
  }
}
