// WEB_CONCURRENCY: `npm start` as a real process tree, workers sharing the port and the database.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { basic } from '../helpers/oauth.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, createPostgresDatabase, usingPostgres } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';

function start(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** A token request on a connection of its own, so that the primary hands each to a worker anew. */
function tokenOnNewConnection(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = 'grant_type=client_credentials&scope=admin';
    const req = request(
      { host: '127.0.0.1', port, path: '/token', method: 'POST', agent: false, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length, authorization: basic(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('WEB_CONCURRENCY', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('is refused with the embedded store, which one process owns', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-cluster-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const server = start({ WEB_CONCURRENCY: '2', DATA_DIR: dataDir, PORT: '0' });
    expect(await server.exited).toBe(78);
    expect(server.output()).toMatch(/WEB_CONCURRENCY above 1 needs DATABASE_URL/);
  });

  it.skipIf(!usingPostgres)('runs N workers on one port and one database, and stops them all on SIGTERM', async () => {
    // Empty, so that the workers' own migration is seen to happen once.
    const database = await createPostgresDatabase({ empty: true });
    const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-cluster-'));
    cleanups.push(() => database.drop(), () => rm(dataDir, { recursive: true, force: true }));
    const port = 40_000 + Math.floor(Math.random() * 20_000);
    const server = start({ WEB_CONCURRENCY: '2', DATABASE_URL: database.url, DATA_DIR: dataDir, PORT: String(port), ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET });
    cleanups.push(async () => void server.child.kill('SIGKILL'));

    await waitFor(() => {
      if (server.child.exitCode !== null) throw new Error(`exited:\n${server.output()}`);
      return server.output().includes('all workers started');
    }, 'the workers to start', { timeoutMs: 60_000 });
    // The second worker listens a moment after the first; then connections go to both in turn.
    await waitFor(() => (server.output().match(/Tollgate is listening/g) ?? []).length >= 2, 'the second worker to listen', { timeoutMs: 60_000 });
    const statuses = [];
    for (let i = 0; i < 10; i += 1) statuses.push(await tokenOnNewConnection(port));
    expect(statuses.every((status) => status === 200)).toBe(true);

    const lines = server.output().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    // Migrations and the admin client happened once, in the first worker.
    expect(lines.filter((line) => line.msg === 'applied database migrations')).toHaveLength(1);
    const servedBy = new Set(lines.filter((line) => line.msg === 'request' && line.path === '/token').map((line) => line.worker));
    expect(servedBy.size).toBe(2);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
