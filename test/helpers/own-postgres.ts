// A PostgreSQL cluster of a test's own, which it may kill, freeze and restart without touching the
// machine's: initdb and pg_ctl in a temporary folder, on a free port, loopback only, trust
// authentication. Run as root, they run as the `postgres` system user (initdb refuses root).
import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { POSTGRES_BIN } from './requirements.js';
import { freePort } from './tollgate.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

export interface OwnPostgresOptions {
  /** Settings passed to the server (`-c name=value`), e.g. { max_connections: '20' }. */
  settings?: Record<string, string>;
}

export interface OwnPostgres {
  readonly port: number;
  /** Creates a database; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** The pid of the postmaster. */
  postmasterPid(): Promise<number>;
  /** SIGKILL to the postmaster and every process it started: a crash, no shutdown, nothing flushed. */
  kill(): Promise<void>;
  /** Starts it (again): after kill(), with crash recovery. Resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it at once and deletes its folder. */
  close(): Promise<void>;
}

/** Runs a PostgreSQL program as the postgres user (itself when the test runs as postgres already). */
async function asPostgres(program: string, args: string[]): Promise<void> {
  const path = join(POSTGRES_BIN, program);
  if (userInfo().uid === 0) await run('runuser', ['-u', 'postgres', '--', path, ...args]);
  else await run(path, args);
}

export async function startOwnPostgres({ settings = {} }: OwnPostgresOptions = {}): Promise<OwnPostgres> {
  const folder = await mkdtemp(join(tmpdir(), 'tollgate-own-postgres-'));
  const dataDir = join(folder, 'data');
  if (userInfo().uid === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(folder, Number(stdout), Number(gid));
    await chmod(folder, 0o700);
  }
  await asPostgres('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const options = ['-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${folder}`];
  for (const [name, value] of Object.entries(settings)) options.push('-c', `${name}=${value}`);
  const url = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;

  const postmasterPid = async () => Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  const cluster: OwnPostgres = {
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    postmasterPid,
    async kill() {
      const postmaster = await postmasterPid();
      const children = await childrenOf(postmaster);
      for (const pid of [postmaster, ...children]) process.kill(pid, 'SIGKILL');
      await waitFor(() => ![postmaster, ...children].some(alive), 'the killed PostgreSQL processes to be gone', { timeoutMs: 10_000, intervalMs: 20 });
    },
    async start() {
      await asPostgres('pg_ctl', ['start', '-w', '-D', dataDir, '-l', join(folder, 'log'), '-o', options.map((o) => `'${o}'`).join(' ')]);
    },
    async close() {
      await asPostgres('pg_ctl', ['stop', '-m', 'immediate', '-D', dataDir]).catch(() => {});
      await rm(folder, { recursive: true, force: true });
    },
  };
  await cluster.start();
  return cluster;
}

/** The processes whose parent is `pid` (a postmaster's backends and workers). */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The fourth field, after the command in parentheses (which may hold spaces), is the parent.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === pid) children.push(Number(entry));
  }
  return children;
}
