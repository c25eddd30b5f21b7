// Starts a real Tollgate on an ephemeral port against a fresh database: an in-memory PGlite, or,
// when DATABASE_URL is set, a new PostgreSQL database created for this server and dropped after.
// Both start as copies of the run's migrated database holding the run's keys, which the server uses.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { openDatabase, type Database, type DatabaseLocation } from '../../src/db/database.js';
import { createLogger } from '../../src/http/logger.js';
import { startServer, type RunningServer, type StartOptions } from '../../src/server.js';
import { postgresAdmin } from './postgres.js';
import { pgliteDump, postgresTemplate, testConfig, writeTestKeys, writeTestKeysEncryptionKey } from './prepared.js';

export const ADMIN_CLIENT_ID = 'test-admin';
export const ADMIN_CLIENT_SECRET = 'test-admin-secret-0123456789abcdefghijklmnopqrstuvwxyz';
/** The bearer token /metrics on the main port asks for (METRICS_TOKEN); test/helpers/ops.ts metricsText sends it. */
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789abcdefghijklmnopqrstuvwxyz';

export interface TestTollgate {
  url: string;
  running: RunningServer;
  db: Database;
  /** Every log line the server wrote, as parsed JSON. */
  logs: Record<string, unknown>[];
  /** The raw log output, for searching for leaked secrets. */
  rawLogs(): string;
  close(): Promise<void>;
}

export const usingPostgres = Boolean(process.env.DATABASE_URL);

/** For tests that start servers of their own: on a loaded machine that alone can take most of the default 30 s. */
export const SERVER_TEST_TIMEOUT_MS = 120_000;

/** A port nothing listens on right now, so a server can be configured with its issuer URL before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A new PostgreSQL database next to the one DATABASE_URL names, dropped by the returned function:
 * a copy of the run's migrated template (with `withKeys`, the one holding the run's keys), or with
 * `empty`, one no migration has touched.
 */
export async function createPostgresDatabase({ empty = false, withKeys = false } = {}): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tollgate_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await postgresAdmin(empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${postgresTemplate(withKeys ? 'withKeys' : 'migrated')}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => postgresAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/**
 * A fresh, migrated database (with `empty`, an unmigrated one) on the store under test; with
 * `withKeys`, holding the run's keys sealed with its key-encryption key (writeTestKeysEncryptionKey).
 */
export async function openTestDatabase({ empty = false, withKeys = false } = {}): Promise<{ db: Database; dispose(): Promise<void> }> {
  if (!usingPostgres) {
    const db = await openDatabase({ inMemory: true, from: await pgliteDump(empty ? 'empty' : withKeys ? 'withKeys' : 'inMemory') });
    return { db, dispose: () => db.close() };
  }
  const database = await createPostgresDatabase({ empty, withKeys });
  const db = await openDatabase({ url: database.url });
  return {
    db,
    async dispose() {
      await db.close();
      await database.drop();
    },
  };
}

/** A server on a fresh database, or on the store at `location` (left in place when it closes). */
export async function startTollgate(
  env: Record<string, string> = {},
  location?: DatabaseLocation,
  start: Pick<StartOptions, 'hashCheck'> = {},
): Promise<TestTollgate> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-test-'));
  await writeTestKeys(dataDir);
  // A fresh database starts with the run's keys imported, as a server's first start leaves it
  // (unless the test names a key-encryption key of its own).
  const withKeys = !location && !env.KEYS_ENCRYPTION_KEY && !env.DATA_DIR;
  if (withKeys) await writeTestKeysEncryptionKey(dataDir);
  const { db, dispose } = location ? await openDatabase(location).then((db) => ({ db, dispose: () => db.close() })) : await openTestDatabase({ withKeys });
  const config = testConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    METRICS_TOKEN: TEST_METRICS_TOKEN,
    LOG_LEVEL: 'info',
    // Tests send many requests and deliberate failures from one address; the rate-limit tests turn limits on.
    RATE_LIMIT_ENABLED: 'false',
    ...env,
  });
  let raw = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      raw += chunk.toString();
      done();
    },
  });
  const running = await startServer(config, createLogger(config.logLevel, sink), { db, ...start });
  return {
    url: running.url,
    running,
    db,
    get logs() {
      return raw
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    rawLogs: () => raw,
    async close() {
      await running.close();
      await dispose();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
