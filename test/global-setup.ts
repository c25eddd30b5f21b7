// Once per `vitest run`, before any test file: the expensive things every test server needs. A
// migrated database to copy (a PostgreSQL template database, or a PGlite data-folder dump) and one
// set of signing keys, so a test server starts by copying instead of migrating and generating RSA.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/database.js';
import { applyMigrations } from '../src/db/migrations.js';
import { generateProviderKeys } from '../src/oidc/keys.js';
import { postgresAdmin } from './helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** keys.json content every test server uses. */
    providerKeys: string;
    /**
     * Files holding PGlite data folders as `dumpDataDir` wrote them: a new database, a migrated one,
     * and the migrated one without the template databases' files, for in-memory test databases.
     */
    pgliteDumps: { empty: string; migrated: string; inMemory: string };
    /** The name of a migrated database to create test databases from (DATABASE_URL runs). */
    postgresTemplate?: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('providerKeys', JSON.stringify(generateProviderKeys()));
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-test-setup-'));
  const dropTemplate = process.env.DATABASE_URL ? await createPostgresTemplate(project) : undefined;
  // Made on PostgreSQL runs too: the migration tests use an empty PGlite as the schema engine's shadow.
  project.provide('pgliteDumps', await dumpPglite(dir));
  return async () => {
    await dropTemplate?.();
    await rm(dir, { recursive: true, force: true });
  };
}

async function dumpPglite(dir: string): Promise<{ empty: string; migrated: string; inMemory: string }> {
  const pglite = new PGlite();
  const dump = async (name: string) => {
    const path = join(dir, `${name}.tar`);
    await writeFile(path, Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()));
    return path;
  };
  try {
    const empty = await dump('empty');
    await applyMigrations(new PrismaPGlite(pglite));
    const migrated = await dump('migrated');
    await removeTemplateDatabases(pglite);
    return { empty, migrated, inMemory: await dump('in-memory') };
  } finally {
    await pglite.close();
  }
}

/**
 * Deletes the files of template0 and template1 (their catalog rows stay): nothing an in-memory test
 * database runs uses them (it creates no database), and every test server loads a third less data.
 */
async function removeTemplateDatabases(pglite: PGlite): Promise<void> {
  const { FS, ENV } = pglite.Module;
  const removeTree = (path: string) => {
    for (const name of FS.readdir(path)) {
      if (name === '.' || name === '..') continue;
      const child = `${path}/${name}`;
      if (FS.isDir(FS.stat(child).mode)) removeTree(child);
      else FS.unlink(child);
    }
    FS.rmdir(path);
  };
  const { rows } = await pglite.query<{ oid: number }>("SELECT oid FROM pg_database WHERE datname IN ('template0', 'template1')");
  for (const { oid } of rows) removeTree(`${ENV.PGDATA}/base/${oid}`);
}

async function createPostgresTemplate(project: TestProject): Promise<() => Promise<void>> {
  const name = `tollgate_template_${process.pid}`;
  await postgresAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, `CREATE DATABASE ${name}`);
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.href });
  try {
    await db.migrate();
  } finally {
    await db.close();
  }
  // Copying needs a database nobody is connected to; refusing connections keeps it that way.
  await postgresAdmin(`ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`);
  project.provide('postgresTemplate', name);
  return () => postgresAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
