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
    /** A file holding a migrated PGlite data folder, as `dumpDataDir` wrote it (embedded runs). */
    pgliteDump?: string;
    /** The name of a migrated database to create test databases from (DATABASE_URL runs). */
    postgresTemplate?: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('providerKeys', JSON.stringify(generateProviderKeys()));
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-test-setup-'));
  const dropTemplate = process.env.DATABASE_URL ? await createPostgresTemplate(project) : undefined;
  if (!dropTemplate) project.provide('pgliteDump', await dumpMigratedPglite(dir));
  return async () => {
    await dropTemplate?.();
    await rm(dir, { recursive: true, force: true });
  };
}

async function dumpMigratedPglite(dir: string): Promise<string> {
  const pglite = new PGlite();
  try {
    await applyMigrations(new PrismaPGlite(pglite));
    const path = join(dir, 'migrated.tar');
    await writeFile(path, Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()));
    return path;
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
