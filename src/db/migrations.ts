import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { sha256 } from '../crypto/hash.js';
import { MIGRATIONS_DIR, SCHEMA_PATH, openSchemaEngine } from './schema-engine.js';

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/** prisma/migrations as the schema engine expects it, read the way `prisma migrate deploy` reads it. */
export async function readMigrations(): Promise<MigrationList> {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  const directories = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return {
    baseDir: fileURLToPath(MIGRATIONS_DIR),
    lockfile: {
      path: 'migration_lock.toml',
      content: await readFile(new URL('migration_lock.toml', MIGRATIONS_DIR), 'utf8').catch(() => null),
    },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      directories.map(async (path) => ({
        path,
        migrationFile: {
          path: 'migration.sql',
          content: { tag: 'ok' as const, value: await readFile(new URL(`${path}/migration.sql`, MIGRATIONS_DIR), 'utf8') },
        },
      })),
    ),
  };
}

/**
 * Applies pending migrations and records them in `_prisma_migrations`; returns the names applied.
 * A database that already records every migration applied, unchanged, is left as it is without
 * the schema engine, which would apply nothing (most starts and `db:migrate` runs); anything else,
 * a failed or rolled-back migration included, is the engine's to handle.
 */
export async function applyMigrations(adapter: SqlMigrationAwareDriverAdapterFactory): Promise<string[]> {
  const migrationsList = await readMigrations();
  if (await migrationsUpToDate(adapter, migrationsList)) return [];
  const connections = closedAfterwards(adapter);
  const engine = await openSchemaEngine(connections.factory);
  try {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
    return appliedMigrationNames;
  } finally {
    engine.free();
    await connections.close();
  }
}

/**
 * Whether `_prisma_migrations` records each of `migrations` as finished and not rolled back, with
 * the checksum (SHA-256 of migration.sql) of the file as it is now, and no migration as failed:
 * then the schema engine would apply nothing. False when the database does not answer: the
 * engine, asked instead, reports why.
 */
export async function migrationsUpToDate(adapter: SqlDriverAdapterFactory, migrations: MigrationList): Promise<boolean> {
  let connection: SqlDriverAdapter | undefined;
  try {
    const opened = (connection = await adapter.connect());
    const query = async (sql: string) => (await opened.queryRaw({ sql, args: [], argTypes: [] })).rows;
    const [[table] = []] = await query(`SELECT to_regclass('_prisma_migrations')::text`);
    if (!table) return false;
    const rows = await query('SELECT migration_name, checksum, finished_at IS NOT NULL FROM _prisma_migrations WHERE rolled_back_at IS NULL');
    if (rows.some(([, , finished]) => finished !== true)) return false;
    const applied = new Set(rows.map(([name, checksum]) => `${String(name)} ${String(checksum)}`));
    return migrations.migrationDirectories.every(
      ({ path, migrationFile: { content } }) => content.tag === 'ok' && applied.has(`${path} ${sha256(content.value, 'hex')}`),
    );
  } catch {
    return false;
  } finally {
    await connection?.dispose().catch(() => {});
  }
}

/**
 * The engine never closes the connections it opens, and the one it migrated over keeps Prisma's
 * migration advisory lock until the pool drops it (~10 s): another instance starting meanwhile
 * (WEB_CONCURRENCY workers, a rolling deploy) would wait that long. So they are closed here.
 */
function closedAfterwards(factory: SqlMigrationAwareDriverAdapterFactory) {
  const opened: { dispose(): Promise<void> }[] = [];
  const tracked = Object.create(factory, {
    connect: {
      value: async () => {
        const connection = runningWholeScripts(await factory.connect());
        opened.push(connection);
        return connection;
      },
    },
  }) as SqlMigrationAwareDriverAdapterFactory;
  return { factory: tracked, close: () => Promise.all(opened.map((c) => c.dispose().catch(() => {}))) };
}

const PG_ADAPTER = '@prisma/adapter-pg';

/**
 * @prisma/adapter-pg runs a migration script statement by statement, split at every ';', which cuts
 * a function body in pieces (the invalidation triggers' PL/pgSQL). PostgreSQL takes the whole script
 * as one simple query, as psql does, and runs it as one transaction. PGlite's adapter already does.
 */
export function runningWholeScripts(connection: SqlDriverAdapter): SqlDriverAdapter {
  if (connection.adapterName !== PG_ADAPTER) return connection;
  const driver = (connection as { underlyingDriver?: () => unknown }).underlyingDriver?.();
  // Without the pool, scripts would be split again and the PL/pgSQL migrations fail midway.
  if (!(driver instanceof pg.Pool)) throw new Error(`${PG_ADAPTER} changed: underlyingDriver() is not a pg.Pool; check src/db/migrations.ts`);
  return Object.create(connection, { executeScript: { value: async (script: string) => void (await driver.query(script)) } }) as SqlDriverAdapter;
}

/**
 * The SQL that takes the database described by prisma/migrations (or an empty one) to schema.prisma;
 * '' when they agree. `shadow` must be an empty database the engine may use to replay the migrations.
 */
export async function diffSchema(shadow: SqlMigrationAwareDriverAdapterFactory, from: 'migrations' | 'empty'): Promise<string> {
  // The engine replays the migrations on the factory's shadow database, which for PGlite would be
  // a new one it creates (an initdb, seconds) and never closes: `shadow` is already that database.
  const engine = await openSchemaEngine(
    Object.create(shadow, { connectToShadowDb: { value: () => shadow.connect() } }) as SqlMigrationAwareDriverAdapterFactory,
  );
  try {
    const migrationsList = await readMigrations();
    const result = await engine.diff({
      from:
        from === 'empty'
          ? { tag: 'empty' }
          : { tag: 'migrations', ...migrationsList, lockfile: { ...migrationsList.lockfile, content: 'provider = "postgresql"' } },
      to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA_PATH.pathname, content: await readFile(SCHEMA_PATH, 'utf8') }] },
      script: true,
      exitCode: true,
      filters: NO_FILTERS,
    });
    return result.exitCode === 0 ? '' : (result.stdout ?? '');
  } finally {
    engine.free();
  }
}
