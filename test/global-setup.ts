// Once per `vitest run`, before any test file: the expensive things every test server needs. A
// migrated database to copy (a PostgreSQL template database, or a PGlite data-folder dump) and one
// set of signing keys, also imported into a copy of that database under one key-encryption key, so
// a test server starts by copying instead of migrating, generating RSA and importing keys.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { TestProject } from 'vitest/node';
import { openDatabase, PrismaClient, type Database } from '../src/db/database.js';
import { readMigrations } from '../src/db/migrations.js';
import { ensureKeys } from '../src/keys/store.js';
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
    /** A folder for the run's files, removed when it ends. */
    runDir: string;
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
  project.provide('runDir', dir);
  await writeFile(join(dir, 'keys.json'), keys, { mode: 0o600 });
  const importKeys = (prisma: PrismaClient) => ensureKeys({ prisma } as Database, kek, dir, new Date());
  const [dropTemplate, dumps] = await Promise.all([
    process.env.DATABASE_URL ? createPostgresTemplates(project, importKeys) : undefined,
    // Made on PostgreSQL runs too: the migration tests use an empty PGlite as the schema engine's shadow.
    dumpPglite(dir, importKeys),
  ]);
  project.provide('pgliteDumps', dumps);
  return async () => {
    await dropTemplate?.();
    await rm(dir, { recursive: true, force: true });
  };
}

type ImportKeys = (prisma: PrismaClient) => Promise<unknown>;

const MIGRATE_STORES = fileURLToPath(new URL('setup/migrate-stores.ts', import.meta.url));

/** test/setup/migrate-stores.ts in a child process, with `args`. */
async function migrateStores(args: string[], env: Record<string, string> = {}): Promise<void> {
  await promisify(execFile)(process.execPath, ['--import', 'tsx', MIGRATE_STORES, ...args], { env: { ...process.env, ...env } });
}

async function dumpPglite(dir: string, importKeys: ImportKeys): Promise<{ empty: string; migrated: string; inMemory: string; withKeys: string }> {
  const migrated = await migratedDumps();
  const pglite = new PGlite({ loadDataDir: new Blob([await readFile(migrated.inMemory)]) });
  try {
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    await importKeys(prisma);
    await prisma.$disconnect();
    const withKeys = join(dir, 'with-keys.tar');
    await writeFile(withKeys, Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()));
    return { ...migrated, withKeys };
  } finally {
    await pglite.close();
  }
}

/** Where the dumps are kept between runs: this checkout's, as its node_modules is. */
const DUMPS_CACHE = fileURLToPath(new URL('../node_modules/.cache/tollgate-test-dumps', import.meta.url));

/**
 * The dumps without keys, kept between runs: PGlite's initdb and the migrations took ~10 s of every
 * run before any test could start. They are made again when anything that shapes them changes (the
 * installed packages, the migrations, src/db, the script that makes them), which the folder's name is
 * a hash of; older versions are removed.
 */
async function migratedDumps(): Promise<{ empty: string; migrated: string; inMemory: string }> {
  const cache = DUMPS_CACHE;
  const version = await dumpsVersion();
  const dir = join(cache, version);
  const files = { empty: join(dir, 'empty.tar'), migrated: join(dir, 'migrated.tar'), inMemory: join(dir, 'in-memory.tar') };
  if (Object.values(files).every((file) => existsSync(file))) return files;
  await mkdir(cache, { recursive: true });
  // A version folder missing a file (a cleaner took it) is made again; other versions are stale.
  for (const name of await readdir(cache)) if (!name.startsWith('building-')) await rm(join(cache, name), { recursive: true, force: true });
  const building = await mkdtemp(join(cache, 'building-'));
  try {
    await migrateStores(['--pglite', building]);
    // Made whole or not at all: a run beside this one may be making the same folder.
    await rename(building, dir).catch((err: NodeJS.ErrnoException) => {
      if (!existsSync(dir)) throw err;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return files;
}

async function dumpsVersion(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(new URL('../node_modules/@electric-sql/pglite/package.json', import.meta.url)));
  hash.update(await readFile(MIGRATE_STORES));
  hash.update(await readFile(new URL('../package-lock.json', import.meta.url)));
  hash.update(await readFile(new URL('../prisma/schema.prisma', import.meta.url)));
  const dbSources = new URL('../src/db/', import.meta.url);
  for (const name of (await readdir(dbSources)).filter((file) => file.endsWith('.ts')).sort()) hash.update(await readFile(new URL(name, dbSources)));
  for (const { path, migrationFile } of (await readMigrations()).migrationDirectories) {
    hash.update(path);
    if (migrationFile.content.tag === 'ok') hash.update(migrationFile.content.value);
  }
  return hash.digest('hex').slice(0, 16);
}

async function createPostgresTemplates(project: TestProject, importKeys: ImportKeys): Promise<() => Promise<void>> {
  const migrated = `tollgate_template_${process.pid}`;
  const withKeys = `tollgate_template_keys_${process.pid}`;
  const drop = () => postgresAdmin(...[migrated, withKeys].map((name) => `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  await drop();
  await postgresAdmin(`CREATE DATABASE ${migrated}`);
  await migrateStores(['--postgres'], { MIGRATE_DATABASE_URL: databaseUrl(migrated) });
  await postgresAdmin(`CREATE DATABASE ${withKeys} TEMPLATE ${migrated}`);
  await prepare(withKeys, (db) => importKeys(db.prisma));
  // Copying needs a database nobody is connected to; refusing connections keeps it that way.
  await postgresAdmin(...[migrated, withKeys].map((name) => `ALTER DATABASE ${name} WITH ALLOW_CONNECTIONS false`));
  project.provide('postgresTemplates', { migrated, withKeys });
  return drop;
}

function databaseUrl(name: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.href;
}

async function prepare(name: string, work: (db: Database) => Promise<unknown>): Promise<void> {
  const db = await openDatabase({ url: databaseUrl(name) });
  try {
    await work(db);
  } finally {
    await db.close();
  }
}
