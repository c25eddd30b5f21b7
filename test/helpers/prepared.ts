// What test/global-setup.ts prepared once for the whole run, as each test server takes it.
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { inject } from 'vitest';
import { KEK_FILE } from '../../src/keys/encryption.js';
import type { ProviderKeys } from '../../src/keys/keys-file.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { CHEAP_HASH_COST } from './hash-cost.js';

/** A test server's configuration: `env` as production reads it, with cheap secret hashing. */
export function testConfig(env: Record<string, string>): Config {
  return Object.freeze({ ...loadConfig(env), hashCost: CHEAP_HASH_COST });
}

/** Puts the run's keys.json in a server's DATA_DIR, so it does not generate an RSA key of its own. */
export async function writeTestKeys(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, 'keys.json'), inject('providerKeys'), { mode: 0o600 });
}

/**
 * Puts the key-encryption key the `withKeys` databases' keys are sealed with in a server's DATA_DIR,
 * where a server without KEYS_ENCRYPTION_KEY keeps the one it generated on its first start.
 */
export async function writeTestKeysEncryptionKey(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, KEK_FILE), `${inject('keysEncryptionKey')}\n`, { mode: 0o600 });
}

/** The run's keys.json, parsed: keys to import without generating an RSA key. */
export function testProviderKeys(): ProviderKeys {
  return JSON.parse(inject('providerKeys')) as ProviderKeys;
}

type DumpKind = 'empty' | 'migrated' | 'inMemory' | 'withKeys';
const pgliteDumps = new Map<DumpKind, Promise<Blob>>();

/**
 * A PGlite data folder to start a database from: new, migrated, or migrated without the template
 * databases (quicker to load, for in-memory test databases), then holding the run's keys too
 * (`withKeys`); read once per test file.
 */
export function pgliteDump(kind: DumpKind): Promise<Blob> {
  let dump = pgliteDumps.get(kind);
  if (!dump) pgliteDumps.set(kind, (dump = readFile(inject('pgliteDumps')[kind]).then((bytes) => new Blob([bytes]))));
  return dump;
}

/**
 * Makes `dataDir` an embedded store holding the migrated database, as a server or the CLI would leave
 * it (a copy of a folder PGlite laid out, modes included: a test that depends on them sets them); with `empty`, a new database no
 * migration has touched; with `inMemory`, the migrated one without template databases (a third smaller).
 * A copy of one PGlite wrote once per test worker: starting and stopping PGlite took seconds a store.
 */
export async function seedDataDir(dataDir: string, kind: SeedKind = 'migrated'): Promise<void> {
  let seeded = seededDataDirs.get(kind);
  if (!seeded) seededDataDirs.set(kind, (seeded = writeDataDir(join(inject('runDir'), `seeded-${process.pid}-${kind}`), kind)));
  await cp(await seeded, dataDir, { recursive: true });
}

type SeedKind = 'empty' | 'migrated' | 'inMemory';
const seededDataDirs = new Map<SeedKind, Promise<string>>();

async function writeDataDir(dataDir: string, kind: SeedKind): Promise<string> {
  const pglite = new PGlite(dataDir, { loadDataDir: await pgliteDump(kind) });
  await pglite.waitReady;
  await pglite.close();
  return dataDir;
}

/** The migrated database to copy new PostgreSQL test databases from, without keys or holding the run's. */
export function postgresTemplate(kind: 'migrated' | 'withKeys' = 'migrated'): string {
  const names = inject('postgresTemplates');
  if (!names) throw new Error('no PostgreSQL template: test/global-setup.ts makes them when DATABASE_URL is set');
  return names[kind];
}
