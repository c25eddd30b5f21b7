// Once per `vitest run`, before any test file: the expensive things every test server needs. A
// migrated database to copy (a PostgreSQL template database, or a PGlite data-folder dump) and one
// set of signing keys, also imported into a copy of that database under one key-encryption key, so
// a test server starts by copying instead of migrating, generating RSA and importing keys.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { TestProject } from 'vitest/node';
import { openDatabase, PrismaClient, type Database } from '../src/db/database.js';
import { ensureKeys } from '../src/keys/store.js';
import { applyMigrations } from '../src/db/migrations.js';
import { generateProviderKeys } from '../src/keys/keys-file.js';
import { postgresAdmin } from './helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** keys.json content every test server uses. */
    providerKeys: string;
    /** The key-encryption key (base64url) the `withKeys` databases hold the run's keys sealed with. */
    keysEncryptionKey: string;
    /**
     * Files holding PGlite data folders as `dumpDataDir` wrote them: a new database, a migrated one,
     * and the migrated one without the template databases' files, for in-memory test databases;
     * `withKeys` holds the run's keys too, as a first start leaves them.
     */
    pgliteDumps: { empty: string; migrated: string; inMemory: string; withKeys: string };
    /** The names of migrated databases to create test databases from (DATABASE_URL runs), without keys and with the run's. */
    postgresTemplates?: { migrated: string; withKeys: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const keys = JSON.stringify(generateProviderKeys());
  const kek = randomBytes(32);
  project.provide('providerKeys', keys);
  project.provide('keysEncryptionKey', kek.toString('base64url'));
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-test-setup-'));
  await writeFile(join(dir, 'keys.json'), keys, { mode: 0o600 });
  const importKeys = (prisma: PrismaClient) => ensureKeys({ prisma } as Database, kek, dir, new Date());
  const dropTemplate = process.env.DATABASE_URL ? await createPostgresTemplates(project, importKeys) : undefined;
  // Made on PostgreSQL runs too: the migration tests use an empty PGlite as the schema engine's shadow.
  project.provide('pgliteDumps', await dumpPglite(dir, importKeys));
  return async () => {
    await dropTemplate?.();
    await rm(dir, { recursive: true, force: true });
  };
}

type ImportKeys = (prisma: PrismaClient) => Promise<unknown>;

async function dumpPglite(dir: string, importKeys: ImportKeys): Promise<{ empty: string; migrated: string; inMemory: string; withKeys: string }> {
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
    const inMemory = await dump('in-memory');
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    await importKeys(prisma);
    await prisma.$disconnect();
    return { empty, migrated, inMemory, withKeys: await dump('with-keys') };
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

async function createPostgresTemplates(project: TestProject, importKeys: ImportKeys): Promise<() => Promise<void>> {
  const migrated = `tollgate_template_${process.pid}`;
  const withKeys = `tollgate_template_keys_${process.pid}`;
  const drop = () => postgresAdmin(...[migrated, withKeys].map((name) => `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  await drop();
  await postgresAdmin(`CREATE DATABASE ${migrated}`);
  await prepare(migrated, (db) => db.migrate());
  await postgresAdmin(`CREATE DATABASE ${withKeys} TEMPLATE ${migrated}`);
  await prepare(withKeys, (db) => importKeys(db.prisma));
  // Copying needs a database nobody is connected to; refusing connections keeps it that way.
  await postgresAdmin(...[migrated, withKeys].map((name) => `ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`));
  project.provide('postgresTemplates', { migrated, withKeys });
  return drop;
}

async function prepare(name: string, work: (db: Database) => Promise<unknown>): Promise<void> {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.href });
  try {
    await work(db);
  } finally {
    await db.close();
  }
}
