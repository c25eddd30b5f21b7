// The admin CLI run in this process: runCli with string streams and a configuration read from the
// given variables only (no ./.env), with the tests' cheap secret hashing; or the real entry point as
// a child process; the stores it runs against, and a server it runs beside.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { runCli } from '../../src/admin/run-cli.js';
import type { DatabaseLocation } from '../../src/db/database.js';
import { CHEAP_HASHING } from './main-process.js';
import { pgliteDump, seedDataDir, testConfig, writeTestKeys } from './prepared.js';
import { createPostgresDatabase, startTollgate, usingPostgres, type TestTollgate } from './tollgate.js';

export interface CliRun {
  code: number;
  stdout: string;
  /** Without the note a run prints about the migrations it applied. */
  stderr: string;
  /** Whether stderr had that note: the run migrated the database first. */
  migrated: boolean;
  /** stdout parsed, or {} when it is not JSON. */
  json: Record<string, unknown>;
}

/** `npm run admin -- …args`; `stdin` is what is piped in (none: a terminal). */
export async function runAdmin(env: Record<string, string>, args: string[], stdin?: string): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: async (text: string) => void (stdout += text),
    stderr: async (text: string) => void (stderr += text),
    stdin: () => stdin,
  };
  const code = await runCli(args, io, { loadConfig: () => testConfig(env) });
  return cliRun(code, stdout, stderr);
}

const CLI = fileURLToPath(new URL('../../src/admin/cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The real entry point, as a child process in the working directory `cwd` with only `env` (hashing at the tests' cost). */
export function spawnCli(env: Record<string, string>, cwd: string, args: string[], stdin = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', TSX, '--import', CHEAP_HASHING, CLI, ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', ...env } },
      (err, stdout, stderr) => {
        resolve(cliRun(err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr));
      },
    );
    child.stdin?.end(stdin);
  });
}

/** A failure: the exit status, and exactly one line on stderr that says `expected`, with no stack trace. */
export function expectFailure(run: CliRun, code: number, ...expected: (string | RegExp)[]) {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  expect(run.stderr.split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/^tollgate-admin: /);
  expect(run.stderr).not.toMatch(/\n\s+at |node_modules/);
  for (const text of expected) expect(run.stderr).toMatch(text);
}

const MIGRATION_NOTE = 'tollgate-admin: applied database migrations: ';

function cliRun(code: number, stdout: string, stderr: string): CliRun {
  const lines = stderr.split('\n').filter(Boolean);
  const rest = lines.filter((line) => !line.startsWith(MIGRATION_NOTE));
  return { code, stdout, stderr: rest.join('\n'), migrated: rest.length < lines.length, json: parseJson(stdout) };
}

export function parseJson(stdout: string): Record<string, unknown> {
  try {
    return stdout ? (JSON.parse(stdout) as Record<string, unknown>) : {};
  } catch {
    return {}; // the caller asserts on stdout as text
  }
}

/** A migrated database for the CLI (and a server) on one store, with DATA_DIR `<dir>/data`. */
export interface CliStore {
  name: string;
  /** The CLI's environment: DATA_DIR, and DATABASE_URL on PostgreSQL. */
  env: Record<string, string>;
  dataDir: string;
  location: DatabaseLocation;
  cleanup(): Promise<void>;
}

/** A fresh migrated database for a server alone, dropped by `drop`. */
export interface ServerDatabase {
  location: DatabaseLocation;
  drop(): Promise<void>;
}

export interface CliStoreKind {
  name: string;
  /** A store the CLI opens itself, in `dir`. */
  open(dir: string): Promise<CliStore>;
  /** A database only a server opens: on the embedded store one in memory, as every test server's. */
  serverDatabase(): Promise<ServerDatabase>;
}

/** The embedded store, and PostgreSQL when DATABASE_URL is set. */
export const cliStores: CliStoreKind[] = [
  {
    name: 'embedded',
    async open(dir: string) {
      const dataDir = join(dir, 'data');
      await seedDataDir(dataDir);
      return { name: 'embedded', env: { DATA_DIR: dataDir }, dataDir, location: { dataDir }, cleanup: async () => {} };
    },
    serverDatabase: async () => ({ location: { inMemory: true, from: await pgliteDump('inMemory') }, drop: async () => {} }),
  },
  ...(usingPostgres
    ? [
        {
          name: 'postgresql',
          async open(dir: string) {
            const dataDir = join(dir, 'data');
            const database = await createPostgresDatabase();
            return {
              name: 'postgresql',
              env: { DATA_DIR: dataDir, DATABASE_URL: database.url },
              dataDir,
              location: { url: database.url },
              cleanup: database.drop,
            };
          },
          async serverDatabase() {
            const database = await createPostgresDatabase();
            return { location: { url: database.url }, drop: database.drop };
          },
        },
      ]
    : []),
];

/** The store this run tests servers on: PostgreSQL when DATABASE_URL is set, else the embedded one. */
export const runStore: CliStoreKind = cliStores.at(-1)!;

/** A fresh store in a temporary folder for the tests of one describe block, removed after them. */
export function freshCliStore(open: (dir: string) => Promise<CliStore>): { store(): CliStore } {
  let dir: string;
  let store: CliStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
    store = await open(dir);
  });
  afterAll(async () => {
    await store?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });
  return { store: () => store };
}

/** A server with DATA_DIR `dataDir` (and the run's keys there) on the database at `location`, answering on its admin socket. */
export async function startServerIn(dataDir: string, location: DatabaseLocation): Promise<TestTollgate> {
  await mkdir(dataDir, { recursive: true });
  await writeTestKeys(dataDir);
  return startTollgate({ DATA_DIR: dataDir }, location);
}

/** A PostgreSQL nothing listens on: a CLI given it can only have worked through a server's admin socket. */
export const UNREACHABLE_DATABASE = 'postgresql://postgres@127.0.0.1:9/none';

export interface CliBesideServer {
  /** The server, on a fresh database of the store; started once for the describe block. */
  tollgate(): TestTollgate;
  /** The CLI's environment: the server's DATA_DIR, and DATABASE_URL naming a database nothing listens on. */
  env(): Record<string, string>;
  /** `npm run admin -- …args` in that environment. */
  run(...args: string[]): Promise<CliRun>;
}

/**
 * The admin CLI beside a running server, as in production: given the server's DATA_DIR and a
 * database that answers nothing, so a command that succeeds went through the server's admin socket
 * (src/admin/socket.ts). One server serves all the tests of the describe block.
 */
export function cliBesideServer(kind: CliStoreKind): CliBesideServer {
  let dir: string;
  let database: ServerDatabase | undefined;
  let tollgate: TestTollgate | undefined;
  const dataDir = () => join(dir, 'data');
  const cliEnv = () => ({ DATA_DIR: dataDir(), DATABASE_URL: UNREACHABLE_DATABASE });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
    database = await kind.serverDatabase();
    tollgate = await startServerIn(dataDir(), database.location);
  });
  afterAll(async () => {
    await tollgate?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    tollgate: () => tollgate!,
    env: cliEnv,
    run: (...args) => runAdmin(cliEnv(), args),
  };
}
