import { readdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from './generated/client.js';
import { probeWrite, sharedProbe } from './data-dir.js';
import type { EmbeddedDurability } from './durable-nodefs.js';
import { openEmbedded } from './embedded.js';
import { applyMigrations } from './migrations.js';
import { MIGRATIONS_DIR } from './schema-engine.js';

export { PrismaClient, Prisma } from './generated/client.js';
export { DatabaseInUseError } from './lock.js';
export { DataDirError } from './data-dir.js';
export type { EmbeddedDurability } from './durable-nodefs.js';
export type * from './generated/client.js';

export interface Database {
  readonly prisma: PrismaClient;
  /** 'embedded' (PGlite in a folder, or in memory) or 'postgresql'. */
  readonly kind: 'embedded' | 'postgresql';
  /** Where the data lives, safe to log: a folder, 'memory', or host/database without credentials. */
  readonly location: string;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /** Resolves when the database answers and every migration in prisma/migrations is applied. */
  checkReady(): Promise<void>;
  close(): Promise<void>;
  /** PostgreSQL only: the connection pool's state, for metrics. */
  poolStats?(): { total: number; idle: number; waiting: number };
  /**
   * Parameterised SQL for the few statements on every request (token rows): Prisma's client-side
   * cost is several times the statement's own (bench/query-cost.mts). On PostgreSQL `name` makes it
   * a prepared statement, parsed once per connection. Timestamps are UTC without zone, as Prisma's.
   */
  sql(name: string, text: string, values: unknown[]): Promise<Record<string, unknown>[]>;
}

/**
 * `inMemory`, or a new database in `dataDir`, may start from `from`, a data folder PGlite dumped
 * (`dumpDataDir`): loading one is several times faster than creating and migrating a new database,
 * which tests do by the hundred.
 */
export type DatabaseLocation =
  | { url: string; pool?: PoolOptions }
  | { dataDir: string; durability?: EmbeddedDurability; from?: Blob }
  | { inMemory: true; from?: Blob };

/** Where the configuration says the database is: DATABASE_URL, or the embedded one in DATA_DIR. */
export function configuredLocation(config: {
  databaseUrl?: string;
  dataDir: string;
  dbPool?: PoolOptions;
  embeddedDurability: EmbeddedDurability;
}): DatabaseLocation {
  return config.databaseUrl ? { url: config.databaseUrl, pool: config.dbPool } : { dataDir: config.dataDir, durability: config.embeddedDurability };
}

/** Bounds on the PostgreSQL pool, so an unreachable or stuck database fails requests fast instead of hanging them. */
export interface PoolOptions {
  max?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}

function poolConfig(connectionString: string, options: PoolOptions = {}): pg.PoolConfig {
  const statementTimeout = options.statementTimeoutMs ?? 10_000;
  return {
    connectionString,
    max: options.max ?? 10,
    // Waiting for a connection (new or from the pool) gives up after this.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3000,
    // The server cancels a statement running longer; the client stops waiting a little later, for a network that went silent.
    statement_timeout: statementTimeout,
    query_timeout: statementTimeout + 1000,
    idleTimeoutMillis: 30_000,
  };
}

export async function openDatabase(location: DatabaseLocation): Promise<Database> {
  if ('url' in location) {
    const pool = new pg.Pool(poolConfig(location.url, location.pool));
    // PostgreSQL may end an idle connection (a restart, a failover, pg_terminate_backend, a closing
    // database): the pool drops it and the next query opens another. Unheard, that 'error' would end
    // the process, and Prisma's adapter listens only while Prisma is connected.
    pool.on('error', () => {});
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    const url = new URL(location.url);
    // The pool is ended here, not by Prisma: Prisma disposes of it only if it ever connected, and
    // the token store's statements (sql below) may be all a process ran.
    const db = database(
      prisma,
      'postgresql',
      `${url.host}${url.pathname}`,
      () => new PrismaPg({ connectionString: location.url, max: 1 }),
      () => pool.end(),
    );
    return {
      ...db,
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      sql: async (name, text, values) => (await pool.query({ name, text, values })).rows,
    };
  }
  const embedded =
    'dataDir' in location ? await openEmbedded(location.dataDir, location.durability ?? 'fsync', location.from) : await openInMemory(location.from);
  const { pglite } = embedded;
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  const db = database(
    prisma,
    'embedded',
    'dataDir' in location ? location.dataDir : 'memory',
    () => new PrismaPGlite(pglite),
    () => embedded.close(),
  );
  // The embedded database is as ready as DATA_DIR's disk is writable: a full or read-only disk
  // fails every write while reads still answer.
  const dataDir = 'dataDir' in location ? location.dataDir : undefined;
  const diskWritable = dataDir ? sharedProbe(() => probeWrite(dataDir)) : undefined;
  const checkReady = diskWritable ? async () => Promise.all([db.checkReady(), diskWritable()]).then(() => {}) : db.checkReady;
  return { ...db, checkReady, sql: async (_name, text, values) => (await pglite.query<Record<string, unknown>>(text, values)).rows };
}

async function openInMemory(from?: Blob): Promise<{ pglite: PGlite; close(): Promise<void> }> {
  const pglite = new PGlite({ loadDataDir: from });
  await pglite.waitReady;
  return { pglite, close: () => pglite.close() };
}

function database(
  prisma: PrismaClient,
  kind: Database['kind'],
  where: string,
  migrationAdapter: () => PrismaPg | PrismaPGlite,
  closeDriver: () => Promise<void>,
): Omit<Database, 'sql'> {
  return {
    prisma,
    kind,
    location: where,
    migrate: () => applyMigrations(migrationAdapter()),
    async checkReady() {
      const expected = (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((e) => e.isDirectory()).length;
      const [row] = await prisma.$queryRaw<{ applied: bigint }[]>`
        SELECT count(*) AS applied FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
      if (Number(row?.applied ?? 0) < expected) throw new Error('database migrations are pending');
    },
    async close() {
      await prisma.$disconnect();
      await closeDriver();
    },
  };
}
