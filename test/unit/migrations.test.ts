// schema.prisma and prisma/migrations must describe the same database, and migrating is idempotent.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { describe, expect, it } from 'vitest';
import { applyMigrations, diffSchema, migrationsUpToDate, readMigrations, runningWholeScripts } from '../../src/db/migrations.js';
import { MIGRATIONS_DIR } from '../../src/db/schema-engine.js';
import { pgliteDump } from '../helpers/prepared.js';
import { createPostgresDatabase, openTestDatabase, usingPostgres } from '../helpers/tollgate.js';

/** diffSchema replays the migrations on a throwaway in-memory database, as `npm run db:diff` does. */
async function diffAgainstShadow(from: 'migrations' | 'empty'): Promise<string> {
  const shadow = new PGlite({ loadDataDir: await pgliteDump('empty') });
  try {
    return await diffSchema(new PrismaPGlite(shadow), from);
  } finally {
    await shadow.close();
  }
}

/** A migrated database on the store under test, as the adapter applyMigrations is given, and a way to run SQL on it. */
async function migratedDatabase(): Promise<{ adapter: SqlMigrationAwareDriverAdapterFactory; sql(text: string): Promise<unknown>; dispose(): Promise<void> }> {
  if (!usingPostgres) {
    const pglite = new PGlite({ loadDataDir: await pgliteDump('migrated') });
    return { adapter: new PrismaPGlite(pglite), sql: (text) => pglite.exec(text), dispose: () => pglite.close() };
  }
  const database = await createPostgresDatabase();
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return {
    adapter: new PrismaPg({ connectionString: database.url, max: 1 }),
    sql: (text) => client.query(text),
    dispose: () => client.end().then(database.drop),
  };
}

describe('migrations', () => {
  it('build exactly what schema.prisma describes (run `npm run db:diff -- <name>` if not)', async () => {
    expect(await diffAgainstShadow('migrations')).toBe('');
  });

  it('are seen to differ from an empty database, so the check above can fail', async () => {
    expect(await diffAgainstShadow('empty')).toMatch(/CREATE TABLE "oidc_payloads"/);
  });

  it('apply once: a second run applies nothing', async () => {
    const { db, dispose } = await openTestDatabase({ empty: true });
    try {
      const names = (await readdir(MIGRATIONS_DIR, { withFileTypes: true }))
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
      expect(await db.migrate()).toEqual(names);
      expect(await db.migrate()).toEqual([]);
      await expect(db.checkReady()).resolves.toBeUndefined();
    } finally {
      await dispose();
    }
  });

  it('are up to date, with no need of the schema engine, only when each is recorded applied and unchanged and none failed', async () => {
    const { adapter, sql, dispose } = await migratedDatabase();
    const migrations = await readMigrations();
    const { path: last, migrationFile } = migrations.migrationDirectories.at(-1)!;
    const checksum = createHash('sha256').update(migrationFile.content.value).digest('hex');
    const upToDate = () => migrationsUpToDate(adapter, migrations);
    const where = `WHERE migration_name = '${last}'`;
    try {
      expect(await upToDate()).toBe(true);
      expect(await applyMigrations(adapter)).toEqual([]);
      for (const [change, undo] of [
        [`UPDATE _prisma_migrations SET checksum = 'edited' ${where}`, `UPDATE _prisma_migrations SET checksum = '${checksum}' ${where}`],
        [`UPDATE _prisma_migrations SET rolled_back_at = now() ${where}`, `UPDATE _prisma_migrations SET rolled_back_at = NULL ${where}`],
        [
          `UPDATE _prisma_migrations SET migration_name = 'another' ${where}`,
          `UPDATE _prisma_migrations SET migration_name = '${last}' WHERE migration_name = 'another'`,
        ],
      ]) {
        await sql(change!);
        expect(await upToDate(), change).toBe(false);
        await sql(undo!);
        expect(await upToDate(), undo).toBe(true);
      }
      // A failed migration is the engine's to report: it refuses to go on.
      await sql(`INSERT INTO _prisma_migrations (id, checksum, migration_name) VALUES ('failed', 'x', '99990101000000_failed')`);
      expect(await upToDate()).toBe(false);
      await expect(applyMigrations(adapter)).rejects.toThrow(/99990101000000_failed/);
      await sql('DROP TABLE _prisma_migrations');
      expect(await upToDate()).toBe(false);
    } finally {
      await dispose();
    }
  });
});

// Migrations reach PostgreSQL's pool through @prisma/adapter-pg's internals: an upgrade that moves
// them must stop migrating with a line saying so, not split the PL/pgSQL scripts again.
describe("@prisma/adapter-pg's connection", () => {
  it('hands over its pg.Pool, which migration scripts run on whole', async () => {
    // Connecting makes a pool and opens no connection.
    const connection = await new PrismaPg({ connectionString: 'postgresql://nobody@127.0.0.1:1/none' }).connect();
    try {
      expect(runningWholeScripts(connection)).not.toBe(connection);
    } finally {
      await connection.dispose();
    }
  });

  it('without a pg.Pool behind it stops migrating with one line naming the file to check', async () => {
    const connection = await new PrismaPg({ connectionString: 'postgresql://nobody@127.0.0.1:1/none' }).connect();
    try {
      const changed = Object.create(connection, { underlyingDriver: { value: () => ({ query: () => {} }) } }) as typeof connection;
      expect(() => runningWholeScripts(changed)).toThrow('@prisma/adapter-pg changed: underlyingDriver() is not a pg.Pool; check src/db/migrations.ts');
    } finally {
      await connection.dispose();
    }
  });

  it("PGlite's is left as it is: it runs scripts whole already", async () => {
    const pglite = new PGlite({ loadDataDir: await pgliteDump('empty') });
    try {
      const connection = await new PrismaPGlite(pglite).connect();
      expect(runningWholeScripts(connection)).toBe(connection);
    } finally {
      await pglite.close();
    }
  });
});
