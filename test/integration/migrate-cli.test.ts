// `npm run db:migrate` as a child process on the store under test (an empty DATA_DIR, or a new empty
// PostgreSQL database): it applies what is pending, says so, and exits as soon as it is done. The
// embedded run is the suite's first start on a brand-new data folder (PGlite's initdb included).
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, usingPostgres } from '../helpers/tollgate.js';

const CLI = fileURLToPath(new URL('../../src/db/migrate-cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Far below the ~10 s a timer left by the schema engine used to hold the process after its work. */
const PROMPT_EXIT_MS = 4000;

interface MigrateRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** From the last output to the process's exit. */
  lingeredMs: number;
}

function migrate(env: Record<string, string>, cwd: string): Promise<MigrateRun> {
  return new Promise((resolve) => {
    let lastOutput = Date.now();
    const child = execFile(process.execPath, ['--import', TSX, CLI], { cwd, env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr, lingeredMs: Date.now() - lastOutput });
    });
    child.stdout?.on('data', () => (lastOutput = Date.now()));
    child.stderr?.on('data', () => (lastOutput = Date.now()));
  });
}

describe('npm run db:migrate', () => {
  let dir: string;
  let env: Record<string, string>;
  let drop = async () => {};
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-migrate-'));
    if (usingPostgres) {
      const database = await createPostgresDatabase({ empty: true });
      env = { DATABASE_URL: database.url };
      drop = database.drop;
    } else {
      env = { DATA_DIR: join(dir, 'data') };
    }
  });
  afterAll(async () => {
    await drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies the pending migrations and exits as soon as it has said so', { timeout: 120_000 }, async () => {
    const run = await migrate(env, dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^applied to .+:\n {2}\d+_init\n/);
    expect(run.lingeredMs).toBeLessThan(PROMPT_EXIT_MS);
  });

  it('then finds nothing pending, and exits as promptly', { timeout: 120_000 }, async () => {
    const run = await migrate(env, dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/: no pending migrations\n$/);
    expect(run.lingeredMs).toBeLessThan(PROMPT_EXIT_MS);
  });
});
