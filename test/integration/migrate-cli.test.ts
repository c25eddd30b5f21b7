// `npm run db:migrate` as a child process on the store under test (an empty DATA_DIR, or a new empty
// PostgreSQL database): it applies what is pending, says so, and exits as soon as it is done: once it
// has said so, nothing (a timer the schema engine leaves, a connection) holds the process open, as a
// probe loaded into it reports (test/helpers/exit-probe.ts). The embedded run is the suite's first
// start on a brand-new data folder (PGlite's initdb included).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, usingPostgres } from '../helpers/tollgate.js';

const CLI = fileURLToPath(new URL('../../src/db/migrate-cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const PROBE = pathToFileURL(fileURLToPath(new URL('../helpers/exit-probe.ts', import.meta.url))).href;

interface MigrateRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Node's active resources that held the process open after its last output; undefined when none did. */
  lingering: string[] | undefined;
}

function migrate(env: Record<string, string>, cwd: string): Promise<MigrateRun> {
  return new Promise((resolve) => {
    const report = join(cwd, `exit-probe-${randomUUID()}.json`);
    execFile(
      process.execPath,
      ['--import', TSX, '--import', PROBE, CLI],
      { cwd, env: { PATH: process.env.PATH ?? '', EXIT_PROBE_REPORT: report, ...env } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        void readFile(report, 'utf8').then(
          (held) => resolve({ code, stdout, stderr, lingering: JSON.parse(held) as string[] }),
          () => resolve({ code, stdout, stderr, lingering: undefined }),
        );
      },
    );
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

  it('applies the pending migrations and exits once it has said so, nothing holding it open', { timeout: 120_000 }, async () => {
    const run = await migrate(env, dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^applied to .+:\n {2}\d+_init\n/);
    expect(run.lingering).toBeUndefined();
  });

  it('then finds nothing pending, and exits as cleanly', { timeout: 120_000 }, async () => {
    const run = await migrate(env, dir);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/: no pending migrations\n$/);
    expect(run.lingering).toBeUndefined();
  });
});
