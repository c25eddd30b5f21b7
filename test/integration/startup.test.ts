// Start-up that explains itself: each failure an operator can fix is one line saying what to do,
// nothing is created or printed before the port is known to be free, an unreachable database is
// waited for, stdout carries only JSON log lines, and a failed start closes what it started.
// Most cases call startServer in-process; the few about the entry point itself spawn src/main.ts.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADMIN_SECRET_FILE } from '../../src/admin/bootstrap.js';
import { loadConfig } from '../../src/config/config.js';
import { describeDatabaseFailure } from '../../src/db/connect.js';
import { LOCK_FILE } from '../../src/db/lock.js';
import { createLogger } from '../../src/http/logger.js';
import { startServer, StartupError, type RunningServer, type StartOptions } from '../../src/server.js';
import { advanceClock } from '../helpers/clock.js';
import { fileCleanups } from '../helpers/file-cleanups.js';
import { MAIN_ARGS } from '../helpers/main-process.js';
import { clientCredentialsToken } from '../helpers/oauth.js';
import { seedDataDir, testConfig, writeTestKeys } from '../helpers/prepared.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, createPostgresDatabase, freePort, openTestDatabase, usingPostgres } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups = fileCleanups('tollgate-startup-');
const tempDir = cleanups.tempDir;
afterEach(() => {
  vi.useRealTimers();
});

/** A port something else holds for the rest of the file. */
async function occupiedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as { port: number }).port;
}

/** A captured stream standing in for stderr, on a terminal or not. */
function terminal(isTTY: boolean) {
  let text = '';
  return Object.assign(new Writable({ write: (chunk, _encoding, done) => void ((text += chunk.toString()), done()) }), { isTTY, text: () => text });
}

interface Attempt {
  result: Promise<RunningServer>;
  logs: () => Record<string, unknown>[];
  rawLogs: () => string;
  dataDir: string;
}

/**
 * startServer as main.ts calls it, with `env` over a test configuration (no ADMIN_CLIENT_SECRET:
 * a first start generates one). A server that starts is closed after the file.
 */
async function attempt(env: Record<string, string>, options: StartOptions = {}): Promise<Attempt> {
  let dataDir = env.DATA_DIR;
  if (!dataDir) await writeTestKeys((dataDir = await tempDir()));
  const config = testConfig({
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ADMIN_CLIENT_ID,
    LOG_LEVEL: 'info',
    RATE_LIMIT_ENABLED: 'false',
    ...env,
  });
  let raw = '';
  const sink = new Writable({ write: (chunk, _encoding, done) => void ((raw += chunk.toString()), done()) });
  const result = startServer(config, createLogger('info', sink), { terminal: terminal(false), dbFirstPauseMs: 20, ...options });
  result.then(
    (running) => cleanups.push(() => running.close()),
    () => {},
  );
  return {
    result,
    dataDir,
    rawLogs: () => raw,
    logs: () =>
      raw
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** The one line a failed start-up explains itself in. */
async function failure(result: Promise<unknown>): Promise<string> {
  const err = await result.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StartupError);
  const { message } = err as StartupError;
  expect(message).not.toContain('\n');
  return message;
}

/** Whether `port` can be listened on again: nothing holds it. */
async function portIsFree(port: number): Promise<boolean> {
  const probe = createServer();
  const free = await new Promise<boolean>((resolve) => probe.once('error', () => resolve(false)).listen(port, '127.0.0.1', () => resolve(true)));
  if (free) await new Promise((resolve) => probe.close(resolve));
  return free;
}

describe('a port in use', () => {
  it('is found before anything is created: one line, no admin client, no secret', async () => {
    const port = await occupiedPort();
    const { db, dispose } = await openTestDatabase();
    cleanups.push(dispose);
    const shown = terminal(true);
    const { result, dataDir, rawLogs } = await attempt({ PORT: String(port) }, { db, terminal: shown });
    expect(await failure(result)).toBe(`port ${port} is in use (EADDRINUSE): another Tollgate? set PORT`);
    expect(await db.prisma.client.findUnique({ where: { id: ADMIN_CLIENT_ID } })).toBeNull();
    expect(shown.text()).toBe('');
    expect(existsSync(join(dataDir, ADMIN_SECRET_FILE))).toBe(false);
    expect(rawLogs()).not.toContain('created admin client');
  });

  it('METRICS_PORT too, and the main port is let go again', async () => {
    const metricsPort = await occupiedPort();
    const port = await freePort();
    const { result } = await attempt({ PORT: String(port), METRICS_PORT: String(metricsPort) });
    expect(await failure(result)).toBe(`port ${metricsPort} is in use (EADDRINUSE): another Tollgate? set METRICS_PORT`);
    expect(await portIsFree(port)).toBe(true);
  });
});

describe('wrong values', () => {
  it('a HOST that does not resolve is one line naming HOST', async () => {
    const { result } = await attempt({ HOST: 'no-such-host.invalid' });
    expect(await failure(result)).toMatch(/^HOST "no-such-host\.invalid" cannot be resolved \((ENOTFOUND|EAI_AGAIN)\): set HOST to an address of this machine/);
  });

  it("a HOST that is not this machine's is one line naming HOST", async () => {
    // 192.0.2.0/24 is TEST-NET-1: no machine has it.
    const { result } = await attempt({ HOST: '192.0.2.1' });
    expect(await failure(result)).toBe(
      'HOST 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL): set HOST to one, such as 127.0.0.1, or 0.0.0.0 for every interface',
    );
  });

  it('an ISSUER that is not http(s) says so', () => {
    expect(() => loadConfig({ ISSUER: 'ftp://x' })).toThrow('invalid configuration: ISSUER must be an http or https URL (got "ftp://x")');
  });
});

describe('an unreachable database', () => {
  it('refusing connections: one line with host:port and "is PostgreSQL running?"', async () => {
    const port = await freePort();
    const { result, dataDir } = await attempt({ DATABASE_URL: `postgresql://tollgate@127.0.0.1:${port}/tollgate`, DB_STARTUP_TIMEOUT_SECONDS: '0' });
    expect(await failure(result)).toBe(
      `cannot connect to PostgreSQL at 127.0.0.1:${port} (ECONNREFUSED): is PostgreSQL running? check the host and port in DATABASE_URL`,
    );
    expect(existsSync(join(dataDir, ADMIN_SECRET_FILE))).toBe(false);
  });

  it('is tried again with backoff, each attempt a warning, until DB_STARTUP_TIMEOUT_SECONDS have passed', async () => {
    const port = await freePort();
    const { result, logs } = await attempt({ DATABASE_URL: `postgresql://tollgate@127.0.0.1:${port}/tollgate`, DB_STARTUP_TIMEOUT_SECONDS: '30' });
    const retries = () => logs().filter((line) => line.msg === 'database not ready yet: trying again');
    await waitFor(() => retries().length >= 3, 'three attempts');
    const pauses = retries().map((line) => line.retryInMs as number);
    expect(pauses.slice(0, 3)).toEqual([20, 40, 80]);
    expect(retries().every((line) => line.level === 40 && String(line.reason).includes('ECONNREFUSED'))).toBe(true);
    advanceClock(30_000);
    expect(await failure(result)).toMatch(
      /^cannot connect to PostgreSQL at .* \(ECONNREFUSED\): is PostgreSQL running\? .* \(tried for 30 s: DB_STARTUP_TIMEOUT_SECONDS\)$/,
    );
  });

  it.skipIf(!usingPostgres)('that comes up while waited for: Tollgate starts, answering 503 meanwhile', async () => {
    const database = await createPostgresDatabase();
    cleanups.push(() => database.drop());
    const target = new URL(database.url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    cleanups.push(() => proxy.close());
    await proxy.stop();
    const proxied = new URL(database.url);
    proxied.host = `127.0.0.1:${proxy.port}`;
    const [port, metricsPort] = [await freePort(), await freePort()];
    const { result, logs } = await attempt({
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      DATABASE_URL: proxied.href,
      ADMIN_CLIENT_SECRET,
      DB_STARTUP_TIMEOUT_SECONDS: '30',
    });
    await waitFor(() => logs().some((line) => line.msg === 'database not ready yet: trying again'), 'a retry');

    const base = `http://127.0.0.1:${port}`;
    const metrics = `http://127.0.0.1:${metricsPort}/metrics`;
    expect((await fetch(metrics)).status).toBe(503);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'starting' });
    const token = await fetch(`${base}/token`, { method: 'POST' });
    expect([token.status, token.headers.get('retry-after'), ((await token.json()) as { error: string }).error]).toEqual([503, '1', 'temporarily_unavailable']);

    await proxy.start();
    const running = await result;
    expect(logs().some((line) => line.msg === 'database reachable')).toBe(true);
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
    expect((await fetch(metrics)).status).toBe(200);
    expect((await clientCredentialsToken(running.url, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, 'admin')).status).toBe(200);
  });

  it.skipIf(!usingPostgres)('a missing database: the createdb command to run', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = '/tollgate_startup_missing';
    const { result } = await attempt({ DATABASE_URL: url.href, DB_STARTUP_TIMEOUT_SECONDS: '0' });
    const user = decodeURIComponent(url.username) || 'postgres';
    expect(await failure(result)).toBe(
      `database "tollgate_startup_missing" does not exist on PostgreSQL at ${url.hostname}:${url.port || 5432}: create it with \`createdb -h ${url.hostname} -p ${url.port || 5432} -U ${user} tollgate_startup_missing\``,
    );
  });

  it.skipIf(!usingPostgres)('a refused login: the user, at once', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.username = 'tollgate_no_such_role';
    url.password = 'wrong';
    const { result, logs } = await attempt({ DATABASE_URL: url.href, DB_STARTUP_TIMEOUT_SECONDS: '30' });
    expect(await failure(result)).toMatch(/^PostgreSQL at .* refused user "tollgate_no_such_role"/);
    expect(logs().some((line) => line.msg === 'database not ready yet: trying again')).toBe(false);
  });
});

describe('describeDatabaseFailure', () => {
  // Failures the test database cannot be made to give (it trusts local logins; it answers in time).
  const url = 'postgresql://app:pw@db.internal:6543/tollgate';
  it('names the user for a wrong password, and DB_CONNECT_TIMEOUT_MS for a silent host', () => {
    expect(
      describeDatabaseFailure(Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' }), { url, connectTimeoutMs: 3000 }),
    ).toBe('PostgreSQL at db.internal:6543 refused user "app": wrong password (28P01); check the user and password in DATABASE_URL');
    expect(describeDatabaseFailure(new Error('timeout exceeded when trying to connect'), { url, connectTimeoutMs: 3000 })).toBe(
      'PostgreSQL at db.internal:6543 did not answer within DB_CONNECT_TIMEOUT_MS (3000 ms): is the host reachable from here?',
    );
  });
});

describe('the first admin secret', () => {
  it('is shown on a terminal (stderr), never logged', async () => {
    const { db, dispose } = await openTestDatabase();
    cleanups.push(dispose);
    const shown = terminal(true);
    const { result, dataDir, rawLogs } = await attempt({}, { db, terminal: shown });
    const running = await result;
    const secret = /shown only now:\n\n {2}(\S+)\n/.exec(shown.text())?.[1];
    expect(secret).toBeDefined();
    expect(rawLogs()).not.toContain(secret!);
    expect(existsSync(join(dataDir, ADMIN_SECRET_FILE))).toBe(false);
    expect((await clientCredentialsToken(running.url, ADMIN_CLIENT_ID, secret!, 'admin')).status).toBe(200);
  });

  it('without a terminal goes to a 0600 file in DATA_DIR that the log names', async () => {
    const { db, dispose } = await openTestDatabase();
    cleanups.push(dispose);
    const shown = terminal(false);
    const { result, dataDir, logs, rawLogs } = await attempt({}, { db, terminal: shown });
    const running = await result;
    const file = join(dataDir, ADMIN_SECRET_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const secret = /shown only now:\n\n {2}(\S+)\n/.exec(await readFile(file, 'utf8'))?.[1];
    expect(secret).toBeDefined();
    expect(shown.text()).toBe('');
    expect(rawLogs()).not.toContain(secret!);
    expect(logs().find((line) => line.file === file)).toMatchObject({ level: 40, clientId: ADMIN_CLIENT_ID });
    expect((await clientCredentialsToken(running.url, ADMIN_CLIENT_ID, secret!, 'admin')).status).toBe(200);
  });
});

describe('a start-up that fails midway', () => {
  it('closes what it had started: the port and the embedded database are let go', async () => {
    const dataDir = await tempDir();
    await seedDataDir(dataDir);
    await writeFile(join(dataDir, 'keys.json'), '{ not json');
    const port = await freePort();
    const { result } = await attempt({ PORT: String(port), DATA_DIR: dataDir });
    await expect(result).rejects.toThrow(SyntaxError);
    expect(await portIsFree(port)).toBe(true);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });
});

/** src/main.ts in a child process, as `npm start` runs it; resolves with its exit status and output. */
function runMain(env: Record<string, string>, { until }: { until?: string } = {}) {
  const child = spawn(process.execPath, MAIN_ARGS, {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(async () => void (child.exitCode === null && child.kill('SIGKILL')));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const output = () => ({ stdout, stderr, stdoutLines: stdout.split('\n').filter(Boolean), stderrLines: stderr.split('\n').filter(Boolean) });
  const reached = until
    ? waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`Tollgate exited ${child.exitCode}:\n${stdout}${stderr}`);
          return stdout.includes(until);
        },
        until,
        { timeoutMs: 60_000 },
      )
    : Promise.resolve();
  return { child, exited, output, reached };
}

const parsesAsJson = (line: string) => {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
};

describe('the entry point (src/main.ts)', () => {
  it('first start: stdout is JSON lines only, the secret in a file; a second Tollgate on the port stops in one line', { timeout: 90_000 }, async () => {
    const [dataDir, otherDataDir] = [await tempDir(), await tempDir()];
    const port = await freePort();
    const env: Record<string, string> = { PORT: String(port), DATA_DIR: dataDir };
    if (usingPostgres) {
      const database = await createPostgresDatabase();
      cleanups.push(() => database.drop());
      env.DATABASE_URL = database.url;
    } else {
      await seedDataDir(dataDir);
    }
    await writeTestKeys(dataDir);
    const first = runMain(env, { until: 'Tollgate is listening' });
    // A bad value costs no server start: it runs meanwhile.
    const badIssuer = runMain({ ISSUER: 'ftp://x', DATA_DIR: otherDataDir });
    // The port is the first thing a start takes: a second Tollgate is refused it while the first starts on.
    await waitFor(
      async () => {
        if (first.child.exitCode !== null) throw new Error(`Tollgate exited ${first.child.exitCode}:\n${first.output().stdout}${first.output().stderr}`);
        return fetch(`http://127.0.0.1:${port}/healthz`).then(
          (response) => response.ok,
          () => false,
        );
      },
      'the port to be taken',
      { timeoutMs: 60_000, intervalMs: 20 },
    );

    const second = runMain({ PORT: String(port), DATA_DIR: otherDataDir });
    expect(await second.exited).toBe(1);
    expect(second.output().stderrLines).toEqual([`tollgate: port ${port} is in use (EADDRINUSE): another Tollgate? set PORT`]);
    expect(second.output().stdoutLines.every(parsesAsJson)).toBe(true);
    // Logged just before the process exits: the log's pending lines are written on the way out.
    expect(second.output().stdoutLines.map((line) => (JSON.parse(line) as { msg?: string }).msg)).toContain('start-up failed');
    expect(existsSync(join(otherDataDir, ADMIN_SECRET_FILE))).toBe(false);
    expect(second.output().stdout + second.output().stderr).not.toMatch(/secret|Created admin client/i);

    expect(await badIssuer.exited).toBe(78);
    expect(badIssuer.output().stderrLines).toEqual(['tollgate: invalid configuration: ISSUER must be an http or https URL (got "ftp://x")']);
    expect(badIssuer.output().stdout).toBe('');

    await first.reached;
    const { stdout, stdoutLines, stderr } = first.output();
    expect(stdoutLines.filter((line) => !parsesAsJson(line))).toEqual([]);
    expect(stderr).toBe('');
    const secretFile = join(dataDir, ADMIN_SECRET_FILE);
    const secret = /shown only now:\n\n {2}(\S+)\n/.exec(await readFile(secretFile, 'utf8'))?.[1];
    expect(stdout).toContain(JSON.stringify(secretFile).slice(1, -1));
    expect(stdout).not.toContain(secret!);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
  });
});
