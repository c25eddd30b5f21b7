// What test/global-setup.ts prepared once for the whole run, as each test server takes it.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { inject } from 'vitest';
import type { HashCost } from '../../src/clients/secrets.js';
import { loadConfig, type Config } from '../../src/config/config.js';

/** argon2id at its cheapest: tests hash and verify hundreds of secrets, production's 64 MiB each would dominate. */
export const CHEAP_HASH_COST: HashCost = Object.freeze({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

/** A test server's configuration: `env` as production reads it, with cheap secret hashing. */
export function testConfig(env: Record<string, string>): Config {
  return Object.freeze({ ...loadConfig(env), hashCost: CHEAP_HASH_COST });
}

/** Puts the run's keys.json in a server's DATA_DIR, so it does not generate an RSA key of its own. */
export async function writeTestKeys(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, 'keys.json'), inject('providerKeys'), { mode: 0o600 });
}

const pgliteDumps = new Map<'empty' | 'migrated', Promise<Blob>>();

/** A PGlite data folder to start an in-memory database from, new or migrated; read once per test file. */
export function pgliteDump(kind: 'empty' | 'migrated'): Promise<Blob> {
  let dump = pgliteDumps.get(kind);
  if (!dump) pgliteDumps.set(kind, (dump = readFile(inject('pgliteDumps')[kind]).then((bytes) => new Blob([bytes]))));
  return dump;
}

/**
 * Makes `dataDir` an embedded store holding the migrated database, as a server or the CLI would leave
 * it; with 'empty', a new database no migration has touched.
 */
export async function seedDataDir(dataDir: string, kind: 'empty' | 'migrated' = 'migrated'): Promise<void> {
  const pglite = new PGlite(dataDir, { loadDataDir: await pgliteDump(kind) });
  await pglite.waitReady;
  await pglite.close();
}

/** The migrated database to copy new PostgreSQL test databases from. */
export function postgresTemplate(): string {
  const name = inject('postgresTemplate');
  if (!name) throw new Error('no PostgreSQL template: test/global-setup.ts makes one when DATABASE_URL is set');
  return name;
}
