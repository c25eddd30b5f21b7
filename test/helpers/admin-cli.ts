// The admin CLI run in this process: runCli with string streams and a configuration read from the
// given variables only (no ./.env), with the tests' cheap secret hashing; or the real entry point as
// a child process; and the stores it runs against.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { runCli } from '../../src/admin/run-cli.js';
import type { DatabaseLocation } from '../../src/db/database.js';
import { seedDataDir, testConfig } from './prepared.js';
import { createPostgresDatabase, usingPostgres } from './tollgate.js';

export interface CliRun {
  code: number;
  stdout: string;
  /** Without the note a first run prints about the migrations it applied. */
  stderr: string;
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
  return { code, stdout, stderr: withoutMigrationNote(stderr), json: parseJson(stdout) };
}

const CLI = fileURLToPath(new URL('../../src/admin/cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The real entry point, as a child process in the working directory `cwd` with only `env`. */
export function spawnCli(env: Record<string, string>, cwd: string, args: string[], stdin = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', TSX, CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr: withoutMigrationNote(stderr), json: parseJson(stdout) });
    });
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

export function withoutMigrationNote(stderr: string): string {
  return stderr.split('\n').filter((line) => line && !line.startsWith('tollgate-admin: applied database migrations')).join('\n');
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

/** The embedded store, and PostgreSQL when DATABASE_URL is set. */
export const cliStores: { name: string; open(dir: string): Promise<CliStore> }[] = [
  {
    name: 'embedded',
    async open(dir: string) {
      const dataDir = join(dir, 'data');
      await seedDataDir(dataDir);
      return { name: 'embedded', env: { DATA_DIR: dataDir }, dataDir, location: { dataDir }, cleanup: async () => {} };
    },
  },
  ...(usingPostgres
    ? [
        {
          name: 'postgresql',
          async open(dir: string) {
            const dataDir = join(dir, 'data');
            const database = await createPostgresDatabase();
            return { name: 'postgresql', env: { DATA_DIR: dataDir, DATABASE_URL: database.url }, dataDir, location: { url: database.url }, cleanup: database.drop };
          },
        },
      ]
    : []),
];

/** A fresh store in a temporary folder for the tests of one describe block, removed after them. */
export function freshCliStore(open: (dir: string) => Promise<CliStore>): { store(): CliStore; run(...args: string[]): Promise<CliRun> } {
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
  return { store: () => store, run: (...args) => runAdmin(store.env, args) };
}
