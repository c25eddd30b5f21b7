import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { buildApp, type App } from './app.js';
import { startInvalidationBus } from './cache/start.js';
import type { Config } from './config/config.js';
import { openDatabase, type Database } from './db/database.js';
import { loadProviderKeys } from './oidc/keys.js';
import { ensureAdminClient } from './admin/bootstrap.js';
import { scheduleCleanup } from './tokens/cleanup.js';
import { scheduleAuditPrune } from './audit/query.js';
import { startMetricsServer } from './metrics/http.js';
import { answerClientError } from './http/client-error.js';
import { drainOnClose } from './http/drain.js';

export interface RunningServer {
  app: App;
  db: Database;
  server: Server;
  url: string;
  /** With METRICS_PORT: where GET /metrics is served (on METRICS_HOST). */
  metricsUrl?: string;
  /**
   * Stops accepting connections, lets in-flight requests finish (for at most
   * SHUTDOWN_TIMEOUT_SECONDS), writes the queued audit events, then closes the database.
   */
  close(): Promise<void>;
}

/**
 * Opens the database, applies migrations, makes sure the admin client exists and listens.
 * `main.ts` calls it with the environment's configuration; tests call it with their own.
 */
export async function startServer(config: Config, log: Logger, options: { db?: Database } = {}): Promise<RunningServer> {
  const db = options.db ?? (await openDatabase(config.databaseUrl ? { url: config.databaseUrl, pool: config.dbPool } : { dataDir: config.dataDir }));
  log.info(
    { database: db.kind, location: db.location },
    db.kind === 'postgresql' ? 'using PostgreSQL from DATABASE_URL' : 'no DATABASE_URL: using the embedded PGlite database',
  );
  const applied = await db.migrate();
  if (applied.length) log.info({ migrations: applied }, 'applied database migrations');

  const { keys, created: keysCreated } = await loadProviderKeys(config.dataDir);
  if (keysCreated) log.info({ dataDir: config.dataDir }, 'generated signing and cookie keys in keys.json');

  const invalidation = await startInvalidationBus(config, db, log);
  const app = buildApp({ config, db, keys, log, invalidation });
  await app.start();
  const admin = await ensureAdminClient(config, app.clients);
  if (admin.generatedSecret) {
    // Printed once, to the terminal only: the log never carries a secret.
    process.stdout.write(
      `\nCreated admin client "${config.adminClientId}". Its secret is shown only now:\n\n  ${admin.generatedSecret}\n\n` +
        `Get an admin token: curl -u '${config.adminClientId}:<secret>' -d grant_type=client_credentials -d scope=admin ${config.issuer}/token\n\n`,
    );
  } else if (admin.created) {
    log.info({ clientId: config.adminClientId }, 'created admin client from ADMIN_CLIENT_ID / ADMIN_CLIENT_SECRET');
  }

  const stopCleanup = scheduleCleanup(db, config.cleanupIntervalSeconds, (err) => log.warn({ err }, 'expired-token cleanup failed'));
  const stopPrune = scheduleAuditPrune(db, config.audit.retentionDays, 3_600_000, (err, count) => {
    if (err) log.warn({ err }, 'audit pruning failed');
    else if (count) log.info({ deleted: count, retentionDays: config.audit.retentionDays }, 'pruned old audit events');
  });
  const server = createServer(app.handler).on('clientError', answerClientError).listen(config.port, config.host);
  const drain = drainOnClose(server);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url, issuer: config.issuer, node: process.version }, 'Tollgate is listening');
  const { metrics } = config;
  const metricsServer = metrics.port === undefined ? undefined : await startMetricsServer(app.metrics, metrics.host, metrics.port);
  const metricsUrl = metricsServer && `http://${metrics.host.includes(':') ? `[${metrics.host}]` : metrics.host}:${(metricsServer.address() as AddressInfo).port}/metrics`;
  if (metricsUrl) log.info({ metricsUrl }, 'metrics listening');

  return {
    app,
    db,
    server,
    url,
    metricsUrl,
    async close() {
      // In reverse of start-up: no new requests (finishing those in flight), no more timers, then
      // the app's components and stores; everything finished requests recorded is written before
      // the database goes.
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      const unfinished = await drain(config.shutdownTimeoutSeconds * 1000);
      if (unfinished) log.warn({ unfinished, timeoutSeconds: config.shutdownTimeoutSeconds }, 'shutdown timeout: closed connections with requests in flight');
      stopPrune();
      stopCleanup();
      await app.close();
      await invalidation.close();
      if (!options.db) await db.close();
    },
  };
}
