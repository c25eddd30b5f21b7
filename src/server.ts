import cluster from 'node:cluster';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildApp, type App, type AppDeps } from './app.js';
import { startInvalidationBus } from './cache/start.js';
import type { Config } from './config/config.js';
import { waitForDatabase, DatabaseStartupError } from './db/connect.js';
import { configuredLocation, DataDirError, DatabaseInUseError, openDatabase, type Database } from './db/database.js';
import { KeyRing } from './keys/key-ring.js';
import { openKeys } from './keys/start.js';
import { keySettings } from './keys/store.js';
import { ensureAdminClient, handOverAdminSecret, type Terminal } from './admin/bootstrap.js';
import { CONSOLE_CLIENT_ID, ensureConsoleClient } from './console/client.js';
import { scheduleCleanup } from './tokens/cleanup.js';
import { scheduleAuditPrune } from './audit/query.js';
import { metricsServer } from './metrics/http.js';
import { answerClientError, refuseConnect } from './http/client-error.js';
import { renderErrors } from './http/errors.js';
import { localAdminApp } from './admin/local-api.js';
import { AdminSocketError, AdminSocketTaken, listenOnAdminSocket } from './admin/socket.js';
import { serveDrainable } from './http/drain.js';
import { whileStarting } from './http/health.js';
import { describeListenFailure, listen, type ListenSettings } from './http/listen.js';

export interface RunningServer {
  app: App;
  db: Database;
  server: Server;
  url: string;
  /** With METRICS_PORT: where GET /metrics is served (on METRICS_HOST). */
  metricsUrl?: string;
  /** With GATEWAY_PORT: where the gateway check is served (on GATEWAY_HOST), e.g. http://127.0.0.1:3002. */
  gatewayUrl?: string;
  /**
   * Stops accepting connections, lets in-flight requests finish (for at most
   * SHUTDOWN_TIMEOUT_SECONDS), writes the queued audit events, then closes the database.
   */
  close(): Promise<void>;
}

/** Start-up failed for a reason told in one line (the message), for the terminal; `cause` keeps the detail for the log. */
export class StartupError extends Error {}

export interface StartOptions {
  /** A database the caller opened (and closes): no waiting for one. */
  db?: Database;
  /** Where a generated admin secret may be shown (src/admin/bootstrap.ts); process.stderr by default. */
  terminal?: Terminal;
  /** The first pause between attempts to reach an unreachable database (src/db/connect.ts). */
  dbFirstPauseMs?: number;
  /** The monotonic clock (ms) the invalidation bus measures its channel's freshness on; tests move it. */
  invalidationClock?: () => number;
  /** What verifies an argon2 hash (src/clients/argon2-gate.ts); argon2 itself when not given. */
  hashCheck?: AppDeps['hashCheck'];
}

/**
 * Takes the port (and METRICS_PORT) first, answering 503 meanwhile, so a port in use is found before
 * anything is created; then waits for the database, applies migrations, makes sure the admin client
 * exists, and starts answering. If a step fails, what the earlier ones started is closed, and the
 * rejection is a StartupError when the cause is one an operator can act on.
 * `main.ts` calls it with the environment's configuration; tests call it with their own.
 */
export async function startServer(config: Config, log: Logger, options: StartOptions = {}): Promise<RunningServer> {
  let app: App | undefined;
  let handler: RequestListener = whileStarting(config.issuerPath);
  const server = createServer().on('clientError', answerClientError).on('connect', refuseConnect);
  const drain = serveDrainable(server, (req, res) => handler(req, res));
  const { metrics } = config;
  // In a cluster, the primary listens on METRICS_PORT (src/cluster/primary.ts).
  const metricsListener = metrics.port === undefined || cluster.isWorker ? undefined : metricsServer(() => app?.metrics);
  // Every worker serves the gateway check, sharing GATEWAY_PORT as they share PORT.
  const { gateway } = config;
  let gatewayHandler: RequestListener = whileStarting('');
  const gatewayServer = gateway.port === undefined ? undefined : createServer().on('clientError', answerClientError).on('connect', refuseConnect);
  const drainGateway = gatewayServer && serveDrainable(gatewayServer, (req, res) => gatewayHandler(req, res));
  for (const listener of [server, gatewayServer]) {
    if (!listener) continue;
    listener.requestTimeout = 30_000;
    listener.headersTimeout = 10_000;
  }
  // Everything past the listeners, closed in reverse on shutdown or when a later step fails.
  const started: (() => unknown)[] = [];
  const closeStarted = async () => {
    // Every piece is closed even if one fails; the first failure is reported.
    const failures: unknown[] = [];
    for (const close of [...started].reverse())
      await Promise.resolve()
        .then(close)
        .catch((err: unknown) => failures.push(err));
    if (failures.length) throw failures[0];
  };

  try {
    await listenOrExplain(server, { port: config.port, host: config.host, portVariable: 'PORT', hostVariable: 'HOST' });
    if (metricsListener)
      await listenOrExplain(metricsListener, { port: metrics.port!, host: metrics.host, portVariable: 'METRICS_PORT', hostVariable: 'METRICS_HOST' });
    if (gatewayServer)
      await listenOrExplain(gatewayServer, { port: gateway.port!, host: gateway.host, portVariable: 'GATEWAY_PORT', hostVariable: 'GATEWAY_HOST' });

    const db = await openOrExplain(config, log, options);
    if (!options.db) started.push(() => db.close());
    const applied = await db.migrate();
    if (applied.length) log.info({ migrations: applied }, 'applied database migrations');

    const { kek, keys } = await openKeys(config, db, log, (line, cause) => new StartupError(line, { cause }));

    const invalidation = await startInvalidationBus(config, db, log, options.invalidationClock ? { now: options.invalidationClock } : {});
    started.push(() => invalidation.close());
    const ring = new KeyRing(db, kek, keys, keySettings(config), invalidation, log.child({ component: 'keys' }));
    const { port } = server.address() as AddressInfo;
    const url = urlOf(config.host, server);
    app = buildApp({ config, db, keys: ring, log, invalidation, localUrl: localAddress(config.host, port), hashCheck: options.hashCheck });
    const { close: closeApp } = app;
    started.push(() => closeApp());
    await app.start();
    const admin = await ensureAdminClient(config, app.clients);
    if (admin.generatedSecret) {
      await handOverAdminSecret(config, admin.generatedSecret, options.terminal ?? process.stderr, log);
    } else if (admin.created) {
      log.info({ clientId: config.adminClientId }, 'created admin client from ADMIN_CLIENT_ID / ADMIN_CLIENT_SECRET');
    }

    started.push(scheduleCleanup(db, config.cleanupIntervalSeconds, (err) => log.warn({ err }, 'expired-token cleanup failed')));
    started.push(
      scheduleAuditPrune(db, config.audit.retentionDays, 3_600_000, (err, count) => {
        if (err) log.warn({ err }, 'audit pruning failed');
        else if (count) log.info({ deleted: count, retentionDays: config.audit.retentionDays }, 'pruned old audit events');
      }),
    );

    if (await ensureConsoleClient(config, app.clients)) log.info({ clientId: CONSOLE_CLIENT_ID }, 'created the web console client');

    handler = app.handler;
    if (app.gatewayHandler) gatewayHandler = app.gatewayHandler;
    const drainAdminSocket = await serveAdminSocket(config, app, log);
    log.info({ url, issuer: config.issuer, node: process.version }, 'Tollgate is listening');
    const metricsUrl = metricsListener && `${urlOf(metrics.host, metricsListener)}/metrics`;
    if (metricsUrl) log.info({ metricsUrl }, 'metrics listening');
    const gatewayUrl = gatewayServer && urlOf(gateway.host, gatewayServer);
    if (gatewayUrl) log.info({ gatewayUrl }, 'gateway check listening');

    return {
      app,
      db,
      server,
      url,
      metricsUrl,
      gatewayUrl,
      async close() {
        // In reverse of start-up: no new requests (finishing those in flight), no more timers, then
        // the app's components and stores; everything finished requests recorded is written before
        // the database goes.
        metricsListener?.close();
        metricsListener?.closeAllConnections();
        const timeoutMs = config.shutdownTimeoutSeconds * 1000;
        const [unfinished] = await Promise.all([drain(timeoutMs), drainGateway?.(timeoutMs), drainAdminSocket?.(timeoutMs)]);
        if (unfinished) log.warn({ unfinished, timeoutSeconds: config.shutdownTimeoutSeconds }, 'shutdown timeout: closed connections with requests in flight');
        await closeStarted();
      },
    };
  } catch (err) {
    // Only 503s were answered so far: the listeners close at once.
    for (const listener of [metricsListener, gatewayServer, server]) {
      listener?.close();
      listener?.closeAllConnections();
    }
    await closeStarted().catch((closeErr: unknown) => log.warn({ err: closeErr }, 'closing after a failed start-up failed'));
    throw err;
  }
}

/** The URL a listener answers at, from the address it was asked to bind and the port it got. */
function urlOf(host: string, listener: Server): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${(listener.address() as AddressInfo).port}`;
}

/**
 * Serves the admin API on DATA_DIR's admin socket (src/admin/socket.ts) to the admin CLI; returns the
 * function that drains it at shutdown. A socket that cannot be served costs only itself: the server
 * runs on, and the log says why.
 */
async function serveAdminSocket(config: Config, app: App, log: Logger): Promise<((timeoutMs: number) => Promise<number>) | undefined> {
  const koa = localAdminApp(app.adminRoutes, app.audit, [renderErrors({ metrics: app.metrics, log })]);
  const server = createServer();
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const drain = serveDrainable(server, koa.callback());
  try {
    const path = await listenOnAdminSocket(server, config.dataDir);
    log.info({ path }, 'admin socket listening: the admin CLI works beside this server');
    return drain;
  } catch (err) {
    // In a cluster the first worker serves it for all.
    if (cluster.isWorker && err instanceof AdminSocketTaken) return undefined;
    const reason = err instanceof AdminSocketError ? err.message : String((err as Error)?.message ?? err);
    log.warn({ reason }, 'admin socket not served: the admin CLI cannot work beside this server');
    return undefined;
  }
}

async function listenOrExplain(server: Server, settings: ListenSettings): Promise<void> {
  await listen(server, settings).catch((err: unknown) => {
    throw new StartupError(describeListenFailure(err, settings), { cause: err });
  });
}

/** Opens the configured database (unless given one); PostgreSQL is waited for (DB_STARTUP_TIMEOUT_SECONDS) until it answers. */
async function openOrExplain(config: Config, log: Logger, options: StartOptions): Promise<Database> {
  const db =
    options.db ??
    (await openDatabase(configuredLocation(config)).catch((err: unknown) => {
      throw err instanceof DatabaseInUseError || err instanceof DataDirError ? new StartupError(err.message, { cause: err }) : err;
    }));
  log.info(
    { database: db.kind, location: db.location },
    db.kind === 'postgresql' ? 'using PostgreSQL from DATABASE_URL' : 'no DATABASE_URL: using the embedded PGlite database',
  );
  if (options.db || !config.databaseUrl) return db;
  try {
    await waitForDatabase(db, {
      timeoutSeconds: config.dbStartupTimeoutSeconds,
      firstPauseMs: options.dbFirstPauseMs ?? 250,
      url: config.databaseUrl,
      connectTimeoutMs: config.dbPool.connectTimeoutMs,
      log,
    });
    return db;
  } catch (err) {
    await db.close();
    throw err instanceof DatabaseStartupError ? new StartupError(err.message, { cause: err.cause }) : err;
  }
}

/** How this process reaches its own listener: over loopback when it listens on every address. */
function localAddress(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
