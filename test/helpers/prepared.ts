// What test/global-setup.ts prepared once for the whole run, as each test server takes it.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';

/** Puts the run's keys.json in a server's DATA_DIR, so it does not generate an RSA key of its own. */
export async function writeTestKeys(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, 'keys.json'), inject('providerKeys'), { mode: 0o600 });
}

let pgliteDump: Promise<Blob> | undefined;

/** The migrated PGlite data folder to start an in-memory database from; read once per test file. */
export function migratedPglite(): Promise<Blob> {
  const path = inject('pgliteDump');
  if (!path) throw new Error('no migrated PGlite dump: test/global-setup.ts makes one when DATABASE_URL is unset');
  pgliteDump ??= readFile(path).then((bytes) => new Blob([bytes]));
  return pgliteDump;
}

/** The migrated database to copy new PostgreSQL test databases from. */
export function postgresTemplate(): string {
  const name = inject('postgresTemplate');
  if (!name) throw new Error('no PostgreSQL template: test/global-setup.ts makes one when DATABASE_URL is set');
  return name;
}
