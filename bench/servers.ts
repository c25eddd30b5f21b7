// Starting the servers under test as child processes, each optionally pinned to CPUs with taskset.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { BENCH_ADMIN } from './constants.js';

export interface Started {
  url: string;
  /** Tollgate's GATEWAY_PORT listener. */
  gatewayUrl?: string;
  /** The server's process (its primary, with workers). */
  pid: number;
  /** CPU time (user + system, ms) used so far by the server and its worker processes. */
  cpuMs(): number;
  stop(): Promise<void>;
}

const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

/** CPU of `pid` and all its descendants, from /proc: a figure a busy machine distorts far less than req/s. */
export function processTreeCpuMs(pid: number): number {
  const stats = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => {
      try {
        // Fields after the command name: state ppid ... utime (14th field) stime (15th).
        const fields = readFileSync(`/proc/${name}/stat`, 'utf8')
          .replace(/^.*\) /, '')
          .split(' ');
        return { pid: Number(name), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
      } catch {
        return undefined;
      }
    })
    .filter((stat) => stat !== undefined);
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const stat of stats) if (tree.has(stat.ppid) && !tree.has(stat.pid)) grew = Boolean(tree.add(stat.pid));
  }
  const ticks = stats.filter((stat) => tree.has(stat.pid)).reduce((sum, stat) => sum + stat.ticks, 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

export interface ServerOptions {
  /** taskset CPU list, e.g. "0" or "0,1"; none: not pinned. */
  cpus?: string;
  /** Passed to node, e.g. ['--cpu-prof', '--cpu-prof-dir=bench/results/profiles']. */
  nodeFlags?: string[];
  logFile: string;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `node <nodeFlags> <args>` as a server on a free port, answering `readyPath` once it has started. */
async function startProcess(args: string[], env: Record<string, string>, readyPath: string, options: ServerOptions): Promise<Started> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const script = args.at(-1)!;
  const node = [process.execPath, ...(options.nodeFlags ?? []), ...args];
  const command = options.cpus ? ['taskset', '-c', options.cpus, ...node] : node;
  // The log goes straight to a file: through a pipe, a busy bench process would stall the server's writes.
  const log = openSync(options.logFile, 'w');
  const child: ChildProcess = spawn(command[0]!, command.slice(1), {
    // Tollgate's issuer is the address it is reached at, so the sign-in flow's redirects stay on it.
    env: { ...process.env, ISSUER: url, ...env, PORT: String(port) },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  for (let waited = 0; ; waited += 200) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}: see ${options.logFile}`);
    const ok = await fetch(`${url}${readyPath}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (waited > 60_000) throw new Error(`${script} did not start: see ${options.logFile}`);
    await sleep(200);
  }
  return {
    url,
    pid: child.pid!,
    cpuMs: () => processTreeCpuMs(child.pid!),
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

export function startBaseline(options: ServerOptions): Promise<Started> {
  return startProcess(['--import', 'tsx', 'bench/baseline-server.ts'], {}, '/.well-known/openid-configuration', options);
}

/** bench/floor-server.ts: bare node:http sending back the answers it is given, the least any Node server could cost. */
export function startFloor(options: ServerOptions): Promise<Started> {
  return startProcess(['--import', 'tsx', 'bench/floor-server.ts'], {}, '/', options);
}

/**
 * Tollgate as `npm start` runs it, compiled (dist/, which `npm run bench` builds first), on a
 * database made for this run: a new PostgreSQL database next to DATABASE_URL (dropped afterwards),
 * or an embedded one in a temporary folder.
 */
export async function startTollgate(env: Record<string, string>, options: ServerOptions): Promise<Started> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-bench-'));
  let dropDatabase = async () => {};
  const databaseEnv: Record<string, string> = {};
  if (process.env.DATABASE_URL) {
    const base = new URL(process.env.DATABASE_URL);
    const name = `tollgate_bench_${process.pid}_${Date.now()}`;
    await withPg(base.href, async (c) => void (await c.query(`CREATE DATABASE ${name}`)));
    const url = new URL(base.href);
    url.pathname = `/${name}`;
    databaseEnv.DATABASE_URL = url.href;
    dropDatabase = () => withPg(base.href, async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
  }
  const gatewayPort = await freePort();
  const started = await startProcess(
    // What `npm start` runs (package.json), so the bench measures what users run, not tsx's transform.
    ['--enable-source-maps', 'dist/src/main.js'],
    {
      DATA_DIR: dataDir,
      GATEWAY_PORT: String(gatewayPort),
      ADMIN_CLIENT_ID: BENCH_ADMIN.id,
      ADMIN_CLIENT_SECRET: BENCH_ADMIN.secret,
      // A benchmark is a flood from one address: the rate limits would measure themselves.
      RATE_LIMIT_ENABLED: 'false',
      ...databaseEnv,
      ...env,
    },
    '/readyz',
    options,
  );
  return {
    url: started.url,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    pid: started.pid,
    cpuMs: started.cpuMs,
    async stop() {
      await started.stop();
      await dropDatabase();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function withPg<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
