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
    /** Files holding PGlite data folders as `dumpDataDir` wrote them: a new database, and a migrated one. */
    pgliteDumps: { empty: string; migrated: string };
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

async function dumpPglite(dir: string): Promise<{ empty: string; migrated: string }> {
  const pglite = new PGlite();
  const dump = async (name: string) => {
    const path = join(dir, `${name}.tar`);
    await writeFile(path, Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()));
    return path;
  };
  try {
    const empty = await dump('empty');
    await applyMigrations(new PrismaPGlite(pglite));
    return { empty, migrated: await dump('migrated') };
  } finally {
    await pglite.close();
  }
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
