// WEB_CONCURRENCY: `npm start` as a real process tree, workers sharing the port and the database.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN_ARGS } from '../helpers/main-process.js';
import { basic } from '../helpers/oauth.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, createPostgresDatabase, freePort, TEST_METRICS_TOKEN, usingPostgres } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';

function start(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, MAIN_ARGS, {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

interface Answer {
  status: number;
  body: string;
}

/** A request on a connection of its own, so that the primary hands each to a worker anew. */
function onNewConnection(
  port: number,
  { method = 'GET', path, headers = {}, body }: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, agent: false, headers: body === undefined ? headers : { ...headers, 'content-length': String(body.length) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function token(port: number, secret = ADMIN_CLIENT_SECRET): Promise<number> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(ADMIN_CLIENT_ID, secret) };
  return (await onNewConnection(port, { method: 'POST', path: '/token', headers, body: 'grant_type=client_credentials&scope=admin' })).status;
}

/** The sum of a metric's samples over all its labels, in Prometheus' text format. */
function total(exposition: string, name: string): number {
  return exposition
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** Every request log line answered by a worker, parsed. */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function untilWorkersListen(server: ReturnType<typeof start>): Promise<void> {
  await waitFor(
    () => {
      if (server.child.exitCode !== null) throw new Error(`exited:\n${server.output()}`);
      return server.output().includes('all workers started');
    },
    'the workers to start',
    { timeoutMs: 60_000 },
  );
  // The second worker listens a moment after the first; then connections go to both in turn.
  await waitFor(() => (server.output().match(/Tollgate is listening/g) ?? []).length >= 2, 'the second worker to listen', { timeoutMs: 60_000 });
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

  it.skipIf(!usingPostgres)(
    'runs N workers on one port and one database, which share /metrics and rate limits, and stops them all on SIGTERM',
    { timeout: 90_000 },
    async () => {
      // Empty, so that the workers' own migration is seen to happen once.
      const database = await createPostgresDatabase({ empty: true });
      const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-cluster-'));
      cleanups.push(
        () => database.drop(),
        () => rm(dataDir, { recursive: true, force: true }),
      );
      const port = await freePort();
      const limit = 12;
      const server = start({
        WEB_CONCURRENCY: '2',
        DATABASE_URL: database.url,
        DATA_DIR: dataDir,
        PORT: String(port),
        ADMIN_CLIENT_ID,
        ADMIN_CLIENT_SECRET,
        METRICS_TOKEN: TEST_METRICS_TOKEN,
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_TOKEN_PER_CLIENT: String(limit),
        RATE_LIMIT_CLIENT_AUTH_FAILURES: '3',
      });
      cleanups.push(async () => void server.child.kill('SIGKILL'));
      await untilWorkersListen(server);

      const statuses = [];
      for (let i = 0; i < 10; i += 1) statuses.push(await token(port));
      expect(statuses.every((status) => status === 200)).toBe(true);
      const lines = logLines(server.output());
      // Migrations and the admin client happened once, in the first worker.
      expect(lines.filter((line) => line.msg === 'applied database migrations')).toHaveLength(1);
      await untilBothWorkersLogged(server, '/token');

      // Whichever worker answers a scrape, it counts what both answered.
      const scrape = { path: '/metrics', headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } };
      const requests: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        const answer = await onNewConnection(port, scrape);
        expect(answer.status).toBe(200);
        expect(total(answer.body, 'tollgate_tokens_issued_total')).toBe(10);
        requests.push(total(answer.body, 'tollgate_http_requests_total'));
      }
      expect(requests[0]).toBeGreaterThanOrEqual(10);
      expect(requests).toEqual([...requests].sort((a, b) => a - b));
      await untilBothWorkersLogged(server, '/metrics');

      // One budget for the client, whichever worker counts a request against it.
      for (let i = 10; i < limit; i += 1) expect(await token(port)).toBe(200);
      expect([await token(port), await token(port)]).toEqual([429, 429]);
      // And one failure budget: counted (penalty) and consulted (get) in the primary.
      const wrong = [];
      for (let i = 0; i < 4; i += 1) wrong.push(await token(port, 'not-the-secret'));
      expect(wrong).toEqual([401, 401, 401, 429]);

      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);

      // METRICS_PORT: the primary listens, and answers for every worker.
      // GATEWAY_PORT: every worker serves the gateway check, sharing the port as they share PORT.
      const metricsPort = await freePort();
      const gatewayPort = await freePort();
      const again = start({
        WEB_CONCURRENCY: '2',
        DATABASE_URL: database.url,
        DATA_DIR: dataDir,
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        GATEWAY_PORT: String(gatewayPort),
        ADMIN_CLIENT_ID,
        ADMIN_CLIENT_SECRET,
      });
      cleanups.push(async () => void again.child.kill('SIGKILL'));
      await untilWorkersListen(again);
      for (let i = 0; i < 4; i += 1) expect(await token(port)).toBe(200);
      for (let i = 0; i < 3; i += 1) {
        const answer = await onNewConnection(metricsPort, { path: '/metrics' });
        expect(answer.status).toBe(200);
        expect(total(answer.body, 'tollgate_tokens_issued_total')).toBe(4);
      }
      for (let i = 0; i < 4; i += 1)
        expect((await onNewConnection(gatewayPort, { path: '/gateway/check', headers: { 'x-original-uri': '/' } })).status).toBe(401);
      await untilBothWorkersLogged(again, '/gateway/check');
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    },
  );
});

/** Both workers answered requests to `path`: their log lines say so once written (a line may wait up to 10 ms for others to share its write). */
function untilBothWorkersLogged(server: { output(): string }, path: string): Promise<void> {
  const workers = () =>
    new Set(
      logLines(server.output())
        .filter((line) => line.msg === 'request' && line.path === path)
        .map((line) => line.worker),
    );
  return waitFor(() => workers().size === 2, `both workers' log lines for ${path}`);
}
