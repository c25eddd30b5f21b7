// Tollgate as `npm start` runs it, in a child process, on a store of its own that outlives the process:
// for the tests of how it stops (SIGTERM) and how it comes back (kill -9, then a restart).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/database.js';
import { seedDataDir, writeTestKeys } from './prepared.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, createPostgresDatabase, freePort, usingPostgres } from './tollgate.js';
import { waitFor } from './wait-for.js';

/** A migrated store with the run's keys (the embedded one in DATA_DIR, or a PostgreSQL database) and the port to serve it on. */
export interface ProcessStore {
  port: number;
  base: string;
  dataDir: string;
  databaseUrl?: string;
  /** The store, opened here: only while no server has it (PGlite has one owner). */
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

export async function createProcessStore(): Promise<ProcessStore> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-process-'));
  await writeTestKeys(dataDir);
  const postgres = usingPostgres ? await createPostgresDatabase() : undefined;
  if (!postgres) await seedDataDir(dataDir);
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    dataDir,
    databaseUrl: postgres?.url,
    open: () => openDatabase(postgres ? { url: postgres.url } : { dataDir }),
    async dispose() {
      await postgres?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface MainProcess {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  exited: Promise<number | null>;
  /** Resolves once it says it is listening; rejects if it exits first. */
  listening: Promise<void>;
}

/** A module for `node --import` that makes argon2id hash at the tests' cost in a child process. */
export const CHEAP_HASHING = new URL('../setup/cheap-hashing.ts', import.meta.url).href;

/**
 * The arguments to node that run src/main.ts as `npm start` does, but for argon2id's cost, the
 * tests' (test/setup/cheap-hashing.ts). node itself, not npx or the tsx CLI: a signal must reach
 * Tollgate, not a wrapper process.
 */
export const MAIN_ARGS = ['--import', 'tsx', '--import', CHEAP_HASHING, 'src/main.ts'];

/** src/main.ts serving `store`, with `env` added; killed (SIGKILL) by `stop` if still running. */
export function spawnMain(store: ProcessStore, env: Record<string, string> = {}): MainProcess {
  const child = spawn(process.execPath, MAIN_ARGS, {
    env: {
      PATH: process.env.PATH,
      PORT: String(store.port),
      HOST: '127.0.0.1',
      ISSUER: store.base,
      DATA_DIR: store.dataDir,
      ...(store.databaseUrl ? { DATABASE_URL: store.databaseUrl } : {}),
      ADMIN_CLIENT_ID,
      ADMIN_CLIENT_SECRET,
      RATE_LIMIT_ENABLED: 'false',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A real process is slow to start on a busy machine.
  const listening = waitFor(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Tollgate exited:\n${output}`);
      return output.includes('Tollgate is listening');
    },
    'Tollgate to start',
    { timeoutMs: 60_000 },
  );
  return { child, output: () => output, exited, listening };
}

/** Kills `main` (SIGKILL) unless it has exited: for a test's cleanup. */
export async function stop(main: MainProcess): Promise<void> {
  if (main.child.exitCode === null && main.child.signalCode === null) main.child.kill('SIGKILL');
  await main.exited;
}
