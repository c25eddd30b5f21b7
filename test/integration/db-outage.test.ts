// A database outage while serving (PostgreSQL only: the embedded store cannot go away): requests
// fail fast with 503 temporarily_unavailable, /readyz goes red, and service comes back by itself.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/http/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { adminToken, basic, clientCredentialsToken, postForm, registerClient } from '../helpers/oauth.js';
import { auditEvents, metricsText, metricValue } from '../helpers/ops.js';
import { testConfig, writeTestKeys } from '../helpers/prepared.js';
import { waitFor } from '../helpers/wait-for.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, createPostgresDatabase, TEST_METRICS_TOKEN, usingPostgres } from '../helpers/tollgate.js';

// Never a hang: a request that does not answer in this long fails the test.
const NO_HANG = 20_000;

async function post(url: string, auth: [string, string], form: Record<string, string>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(...auth) },
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(NO_HANG),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as Record<string, unknown> };
}

describe.skipIf(!usingPostgres)('database outage (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let proxy: TcpProxy;
  let running: RunningServer;
  let raw = '';
  let dataDir: string;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    const target = new URL(database.url);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const proxied = new URL(database.url);
    proxied.host = `127.0.0.1:${proxy.port}`;
    dataDir = await mkdtemp(join(tmpdir(), 'tollgate-outage-'));
    await writeTestKeys(dataDir);
    const config = testConfig({
      PORT: '0',
      DATABASE_URL: proxied.href,
      DATA_DIR: dataDir,
      ADMIN_CLIENT_ID,
      ADMIN_CLIENT_SECRET,
      METRICS_TOKEN: TEST_METRICS_TOKEN,
      DB_CONNECT_TIMEOUT_MS: '1000',
      AUDIT_FLUSH_INTERVAL_MS: '100',
    });
    const sink = new Writable({
      write(chunk, _encoding, done) {
        raw += chunk.toString();
        done();
      },
    });
    running = await startServer(config, createLogger('info', sink));
  });
  afterAll(async () => {
    await proxy?.start();
    await running?.close();
    await proxy?.close();
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 temporarily_unavailable fast, reports unready, and recovers by itself with nothing lost', async () => {
    const base = running.url;
    const client = await registerClient(base, { scope: 'read' });
    const auth: [string, string] = [client.client_id, client.client_secret];
    const before = await clientCredentialsToken(base, ...auth, 'read');
    expect(before.status).toBe(200);
    const token = before.body.access_token as string;
    const adminBearer = await adminToken(base);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    // Events from before the outage are written first: an audit batch whose commit reply is lost
    // in the cut is written again when the database is back (at-least-once), which would count twice here.
    await running.app.audit.flush();

    await proxy.stop();

    const issued = await post(`${base}/token`, auth, { grant_type: 'client_credentials' });
    expect(issued.status).toBe(503);
    expect(issued.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    expect(issued.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(issued.text).not.toMatch(/at .*\.(ts|js):\d+|Prisma|ECONN/);
    expect((await post(`${base}/introspect`, auth, { token })).status).toBe(503);
    const adminCall = await fetch(`${base}/admin/clients`, { headers: { authorization: `Bearer ${adminBearer}` }, signal: AbortSignal.timeout(NO_HANG) });
    expect(adminCall.status).toBe(503);
    expect(await adminCall.json()).toMatchObject({ error: 'temporarily_unavailable' });
    const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(NO_HANG) });
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    // An audit event raised during the outage waits in the queue.
    expect((await fetch(`${base}/admin/clients`)).status).toBe(401);
    await waitFor(async () => raw.includes('audit write failed'), 'a failed audit write');

    const metrics = await metricsText(base);
    expect(metricValue(metrics, 'tollgate_database_errors_total', { kind: 'unavailable' })).toBeGreaterThanOrEqual(3);
    expect(metricValue(metrics, 'tollgate_audit_queue_depth')).toBeGreaterThanOrEqual(1);

    await proxy.start();
    // Refused connections count as not yet.
    await waitFor(
      () =>
        fetch(`${base}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        ),
      '/readyz to recover',
    );
    const after = await clientCredentialsToken(base, ...auth, 'read');
    expect(after.status).toBe(200);
    // The token issued before the outage is intact.
    expect((await postForm(base, '/introspect', { token }, auth)).body).toMatchObject({ active: true, client_id: client.client_id });
    const denied = await auditEvents(base, { type: 'admin.denied' });
    expect(denied.events.length).toBeGreaterThanOrEqual(1);
    expect((await auditEvents(base, { client_id: client.client_id, type: 'token.issued' })).events).toHaveLength(2);

    // No stack trace and no server_error in the log: outages are warnings.
    const lines = raw
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.filter((line) => line.msg === 'unhandled error' || line.msg === 'oidc-provider server error')).toEqual([]);
    expect(lines.some((line) => line.msg === 'database unavailable: answered 503')).toBe(true);
  });

  it("survives PostgreSQL terminating Tollgate's connections: no 500, and the next requests succeed", async () => {
    const base = running.url;
    const client = await registerClient(base);
    const auth: [string, string] = [client.client_id, client.client_secret];
    expect((await clientCredentialsToken(base, ...auth)).status).toBe(200);

    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      const name = new URL(database.url).pathname.slice(1);
      const { rowCount } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      expect(rowCount).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(`${base}/token`, auth, { grant_type: 'client_credentials' })).status);
    for (const status of statuses) expect([200, 503]).toContain(status);
    expect(statuses.at(-1)).toBe(200);
  });

  it('drops an idle connection that PostgreSQL ends without an uncaught error, also before Prisma has connected', async () => {
    const scratch = await createPostgresDatabase();
    const db = await openDatabase({ url: scratch.url });
    const uncaught: unknown[] = [];
    const record = (err: unknown) => void uncaught.push(err);
    process.on('uncaughtException', record);
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      // Only the token store's kind of statement so far: one pool connection, idle, and no Prisma query yet.
      expect(await db.sql('outage_probe', 'SELECT 1 AS one', [])).toEqual([{ one: 1 }]);
      const name = new URL(scratch.url).pathname.slice(1);
      const { rowCount } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      expect(rowCount).toBe(1);
      await waitFor(() => db.poolStats!().total === 0, 'the pool to drop the ended connection');
      expect(uncaught).toEqual([]);
      expect(await db.sql('outage_probe', 'SELECT 1 AS one', [])).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', record);
      await admin.end();
      await db.close();
      await scratch.drop();
    }
  });
});
