// The audit trail, through the admin API and the CLI, on whichever store the run uses.
import { createHash, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { insertAuditEvents } from '../../src/audit/insert-events.js';
import { auditActivity, pruneAuditEvents } from '../../src/audit/query.js';
import { advanceClock } from '../helpers/clock.js';
import { runAdmin } from '../helpers/admin-cli.js';
import { admin, adminToken, basic, clientCredentialsToken, postForm, registerClient } from '../helpers/oauth.js';
import { auditEvents, type AuditEventView } from '../helpers/ops.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, startTollgate, usingPostgres, type TestTollgate } from '../helpers/tollgate.js';

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

let tollgate: TestTollgate;
let token: string;
/** Every credential handled here; none may reach the audit table. */
const credentials: string[] = [ADMIN_CLIENT_SECRET];

beforeAll(async () => {
  // No scheduled pruning: the prune tests age events themselves, and a prune on the server's timer
  // between their writes and their own prune would take the events they count.
  tollgate = await startTollgate({ AUDIT_RETENTION_DAYS: '0' });
  token = await adminToken(tollgate.url);
  credentials.push(token);
});
afterAll(() => tollgate?.close());
afterEach(() => {
  vi.useRealTimers();
});

const MINUTE = 60_000;
/** Stops the clock one second into the next minute, so a test's requests share a known minute. */
function startOfNextMinute(): number {
  advanceClock(MINUTE - (Date.now() % MINUTE) + 1000);
  return Date.now();
}

const byType = (events: AuditEventView[], type: string) => events.filter((e) => e.type === type);

/** A client with a token, and a resource server that introspects it. */
async function introspectionSetup() {
  const client = await registerClient(tollgate.url, { scope: 'read' });
  const rs = await registerClient(tollgate.url, { resource_server: true });
  credentials.push(client.client_secret, rs.client_secret);
  const issued = await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret, 'read');
  const accessToken = issued.body.access_token as string;
  credentials.push(accessToken);
  const rsAuth: [string, string] = [rs.client_id, rs.client_secret];
  const introspect = async (times: number, token = accessToken, auth = rsAuth) => {
    for (let i = 0; i < times; i += 1) await postForm(tollgate.url, '/introspect', { token }, auth);
  };
  const rows = async () => (await auditEvents(tollgate.url, { actor: rs.client_id, type: 'token.introspected' })).events;
  return { client, rs, introspect, rows };
}

describe('successful introspections in the audit trail (AUDIT_INTROSPECTIONS=aggregate, the default)', () => {
  it('are one row per caller, token client and minute, with the count and first and last times; inactive answers and failures stay one row each; the dashboard sums the counts', async () => {
    const { client, rs, introspect, rows } = await introspectionSetup();
    const first = startOfNextMinute();
    await introspect(3);
    advanceClock(20_000);
    await introspect(2);
    await introspect(1, 'not-a-token-0123456789');
    await introspect(1, undefined, [rs.client_id, 'wrong-secret-0123456789']);
    expect((await rows()).filter((e) => e.details.active === true)).toEqual([]); // the minute is not over
    advanceClock(MINUTE);
    const events = await rows();
    expect(events.map((e) => [e.outcome, e.details.active, e.count])).toEqual([
      ['success', true, 5],
      ['failure', undefined, 1],
      ['success', false, 1],
    ]);
    expect(events[0]).toMatchObject({
      client_id: client.client_id,
      time: new Date(first).toISOString(),
      first_at: new Date(first).toISOString(),
      last_at: new Date(first + 20_000).toISOString(),
      details: { active: true, token_type: 'Bearer' },
    });
    expect(events[1]).toMatchObject({ first_at: null, last_at: null });
    const minute = new Date(first - (first % MINUTE));
    expect((await auditActivity(tollgate.db, minute, 60, 1)).introspected).toEqual([7]);
  });

  it('are one row per minute across a minute boundary', async () => {
    const { introspect, rows } = await introspectionSetup();
    startOfNextMinute();
    await introspect(2);
    advanceClock(MINUTE);
    await introspect(3);
    advanceClock(MINUTE);
    expect((await rows()).map((e) => e.count)).toEqual([3, 2]);
  });

  it('are written on shutdown, the current minute included; AUDIT_INTROSPECTIONS=each writes one row per answer', async () => {
    const log = pino({ level: 'silent' });
    const write = async (introspections: 'aggregate' | 'each') => {
      const audit = new AuditLog(tollgate.db, log, { flushIntervalMs: 60_000, queueMax: 1000, introspections });
      const actor = `shutdown-${introspections}-${randomUUID()}`;
      for (let i = 0; i < 4; i += 1)
        audit.tally({ type: 'token.introspected', actor, clientId: 'c', details: { active: true } }, undefined, {
          subject: `s${i}`,
          details: { token_id: `t${i}` },
        });
      await audit.close();
      return (await auditEvents(tollgate.url, { actor })).events;
    };
    expect((await write('aggregate')).map((e) => [e.count, e.subject])).toEqual([[4, null]]);
    const each = await write('each');
    expect(each.map((e) => [e.count, e.subject, e.details.token_id])).toEqual([3, 2, 1, 0].map((i) => [1, `s${i}`, `t${i}`]));
  });
});

describe('the audit trail', () => {
  it("records a token's life: issued, introspected by a resource server (active, then not), revoked", async () => {
    const client = await registerClient(tollgate.url, { scope: 'read write' });
    const rs = await registerClient(tollgate.url, { resource_server: true });
    credentials.push(client.client_secret, rs.client_secret);
    const beforeIssuing = Date.now();
    const issued = await fetch(`${tollgate.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(client.client_id, client.client_secret),
        'x-request-id': 'audit-test-request-1',
      },
      body: 'grant_type=client_credentials&scope=read',
    });
    expect(issued.status).toBe(200);
    const accessToken = ((await issued.json()) as { access_token: string }).access_token;
    const afterIssuing = Date.now();
    credentials.push(accessToken);
    const rsAuth: [string, string] = [rs.client_id, rs.client_secret];
    startOfNextMinute();
    expect((await postForm(tollgate.url, '/introspect', { token: accessToken }, rsAuth)).body).toMatchObject({ active: true });
    expect((await postForm(tollgate.url, '/revoke', { token: accessToken }, [client.client_id, client.client_secret])).status).toBe(200);
    expect((await postForm(tollgate.url, '/introspect', { token: accessToken }, rsAuth)).body).toEqual({ active: false });

    const { events } = await auditEvents(tollgate.url, { client_id: client.client_id });
    const [issuedEvent] = byType(events, 'token.issued');
    expect(issuedEvent).toMatchObject({
      outcome: 'success',
      actor: client.client_id,
      client_id: client.client_id,
      subject: client.client_id,
      source_ip: '127.0.0.1',
      request_id: 'audit-test-request-1',
      details: { grant_type: 'client_credentials', scope: 'read', dpop: false, token_id: sha256(accessToken) },
    });
    // Read on the test's clock, which startOfNextMinute moves on by up to a minute since.
    expect(Date.parse(issuedEvent!.time)).toBeGreaterThanOrEqual(beforeIssuing);
    expect(Date.parse(issuedEvent!.time)).toBeLessThanOrEqual(afterIssuing);
    expect(byType(events, 'token.revoked')).toEqual([
      expect.objectContaining({ actor: client.client_id, details: expect.objectContaining({ found: true, token_id: sha256(accessToken) }) }),
    ]);

    const introspections = byType((await auditEvents(tollgate.url, { actor: rs.client_id, type: 'token.introspected' })).events, 'token.introspected');
    // The inactive answer is its own row at once; the active one is its minute's tally, written once the minute is over.
    expect(introspections).toEqual([
      expect.objectContaining({ count: 1, request_id: expect.any(String), details: expect.objectContaining({ active: false, token_id: sha256(accessToken) }) }),
    ]);
    advanceClock(MINUTE);
    const later = (await auditEvents(tollgate.url, { actor: rs.client_id, type: 'token.introspected' })).events;
    expect(later.map((e) => [e.details.active, e.count])).toEqual([
      [true, 1],
      [false, 1],
    ]);
    expect(later[0]).toMatchObject({ client_id: client.client_id, subject: null, request_id: null });
  });

  it('records failed token requests, naming the client but not the secret it tried', async () => {
    const client = await registerClient(tollgate.url);
    credentials.push(client.client_secret);
    const wrong = 'wrong-secret-for-the-audit-test-0123456789abcdef';
    credentials.push(wrong);
    expect((await clientCredentialsToken(tollgate.url, client.client_id, wrong)).status).toBe(401);
    const { events } = await auditEvents(tollgate.url, { client_id: client.client_id, outcome: 'failure' });
    expect(events).toEqual([
      expect.objectContaining({
        type: 'token.request_failed',
        outcome: 'failure',
        client_id: client.client_id,
        details: expect.objectContaining({ error: 'invalid_client', grant_type: 'client_credentials' }),
      }),
    ]);
  });

  it('records client changes made through the admin API with the admin client as the actor, and refused admin calls', async () => {
    const client = await registerClient(tollgate.url, { scope: 'read' });
    credentials.push(client.client_secret);
    expect((await admin(tollgate.url, 'PATCH', `/clients/${client.client_id}`, { client_name: 'renamed' }, token)).status).toBe(200);
    const rotated = await admin(tollgate.url, 'POST', `/clients/${client.client_id}/secret`, { overlap_seconds: 60 }, token);
    expect(rotated.status).toBe(200);
    credentials.push(rotated.body.client_secret as string);
    expect((await admin(tollgate.url, 'DELETE', `/clients/${client.client_id}`, undefined, token)).status).toBe(204);
    expect((await admin(tollgate.url, 'DELETE', `/clients/${client.client_id}`, undefined, token)).status).toBe(404);

    const { events } = await auditEvents(tollgate.url, {
      client_id: client.client_id,
      type: 'client.created,client.updated,client.secret_rotated,client.deleted',
    });
    expect(events.map((e) => [e.type, e.outcome])).toEqual([
      ['client.deleted', 'failure'],
      ['client.deleted', 'success'],
      ['client.secret_rotated', 'success'],
      ['client.updated', 'success'],
      ['client.created', 'success'],
    ]);
    for (const event of events) expect(event.actor).toBe(ADMIN_CLIENT_ID);
    expect(events.find((e) => e.type === 'client.updated')!.details).toMatchObject({ fields: ['client_name'] });
    expect(events.find((e) => e.type === 'client.secret_rotated')!.details).toMatchObject({ overlap_seconds: 60 });

    expect((await admin(tollgate.url, 'GET', '/clients', undefined, 'not-a-valid-admin-token-at-all')).status).toBe(401);
    const denied = await auditEvents(tollgate.url, { type: 'admin.denied' });
    expect(denied.events[0]).toMatchObject({ outcome: 'failure', actor: null, details: { status: 401, method: 'GET' } });
  });

  it('names the route of an admin request refused before the router ran, and records a change refused for its body', async () => {
    const id = 'audited-route-0123456789';
    expect((await admin(tollgate.url, 'DELETE', `/clients/${id}`, undefined, 'not-a-valid-admin-token-either')).status).toBe(401);
    const denied = await auditEvents(tollgate.url, { type: 'admin.denied' });
    expect(denied.events[0]).toMatchObject({ details: { status: 401, method: 'DELETE', route: '/admin/clients/:id' } });

    const notJson = await fetch(`${tollgate.url}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"client_name":',
    });
    expect(notJson.status).toBe(400);
    const created = await auditEvents(tollgate.url, { type: 'client.created' });
    expect(created.events[0]).toMatchObject({ outcome: 'failure', actor: ADMIN_CLIENT_ID, details: { status: 400 } });
  });

  it('records user changes made through the admin API, naming the user as subject and never the password', async () => {
    const password = 'correct horse battery staple 42';
    credentials.push(password);
    const created = await admin(tollgate.url, 'POST', '/users', { username: 'audited-user', password }, token);
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await admin(tollgate.url, 'PATCH', `/users/${id}`, { disabled: true }, token)).status).toBe(200);
    expect((await admin(tollgate.url, 'DELETE', `/users/${id}`, undefined, token)).status).toBe(204);

    const { events } = await auditEvents(tollgate.url, { subject: id, type: 'user.created,user.updated,user.deleted' });
    expect(events.map((e) => [e.type, e.outcome, e.actor])).toEqual([
      ['user.deleted', 'success', ADMIN_CLIENT_ID],
      ['user.updated', 'success', ADMIN_CLIENT_ID],
      ['user.created', 'success', ADMIN_CLIENT_ID],
    ]);
    expect(events.find((e) => e.type === 'user.created')!.details).toMatchObject({ fields: ['username', 'password'] });
    expect(JSON.stringify(events)).not.toContain(password);
  });

  it('filters by type, client, subject and time range, newest first, with cursor pagination', async () => {
    const started = new Date(Date.now() - 1000).toISOString();
    const client = await registerClient(tollgate.url);
    credentials.push(client.client_secret);
    for (let i = 0; i < 5; i++) expect((await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret)).status).toBe(200);

    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await auditEvents(tollgate.url, { type: 'token.issued', subject: client.client_id, limit: '2', ...(cursor ? { cursor } : {}) });
      sizes.push(page.events.length);
      seen.push(...page.events.map((e) => e.id));
      for (const e of page.events) expect(e).toMatchObject({ type: 'token.issued', subject: client.client_id });
      cursor = page.next_cursor;
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(new Set(seen).size).toBe(5);
    expect([...seen].sort((a, b) => Number(BigInt(b) - BigInt(a)))).toEqual(seen);

    const inRange = await auditEvents(tollgate.url, {
      client_id: client.client_id,
      type: 'token.issued',
      since: started,
      until: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(inRange.events).toHaveLength(5);
    expect((await auditEvents(tollgate.url, { client_id: client.client_id, since: new Date(Date.now() + 60_000).toISOString() })).events).toEqual([]);
    expect((await auditEvents(tollgate.url, { client_id: client.client_id, until: started })).events).toEqual([]);
  });

  it('refuses bad filters with 400 naming the parameter, and callers without an admin token', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['since=yesterday', 'since'],
      ['cursor=abc', 'cursor'],
      ['cursor=9999999999999999999', 'cursor'], // beyond a bigint
      ['type=DROP%20TABLE', 'type'],
      ['outcome=maybe', 'outcome'],
      ['colour=blue', 'colour'],
    ] as const) {
      const response = await admin(tollgate.url, 'GET', `/audit?${query}`, undefined, token);
      expect(response.status, query).toBe(400);
      expect(response.body).toMatchObject({ error: 'invalid_request', field: expect.stringContaining(field) });
    }
    expect((await fetch(`${tollgate.url}/admin/audit`)).status).toBe(401);
  });

  it('keeps no secret or token value in the audit table', async () => {
    await auditEvents(tollgate.url); // flushes the queue
    const rows = JSON.stringify(await tollgate.db.prisma.auditEvent.findMany(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(rows.length).toBeGreaterThan(1000);
    for (const secret of credentials) expect(rows.includes(secret), 'a credential is in audit_events').toBe(false);
  });

  it('prunes events older than the retention period and keeps the rest', async () => {
    const old = await tollgate.db.prisma.auditEvent.create({
      data: { type: 'token.issued', outcome: 'success', time: new Date(Date.now() - 91 * 86_400_000) },
    });
    const before = await tollgate.db.prisma.auditEvent.count();
    expect(await pruneAuditEvents(tollgate.db, 90)).toBe(1);
    expect(await tollgate.db.prisma.auditEvent.findUnique({ where: { id: old.id } })).toBeNull();
    expect(await tollgate.db.prisma.auditEvent.count()).toBe(before - 1);
    expect(await pruneAuditEvents(tollgate.db, 0)).toBe(0); // 0: keep forever
  });

  it('keeps one copy of a batch written twice, as after a commit whose reply was lost', async () => {
    const batch = [randomUUID(), randomUUID()].map((eventId) => ({ eventId, type: 'token.issued', outcome: 'success', clientId: 'written-twice' }));
    await insertAuditEvents(tollgate.db, batch);
    await insertAuditEvents(tollgate.db, batch);
    expect(await tollgate.db.prisma.auditEvent.count({ where: { clientId: 'written-twice' } })).toBe(2);
  });
});

describe.skipIf(!usingPostgres)('npm run admin -- audit (PostgreSQL: the CLI and the server share the database)', () => {
  const cli = (args: string[]) => runAdmin({ DATABASE_URL: databaseUrl() }, args);
  const databaseUrl = () => (tollgate.db.location.includes('/') ? `postgresql://postgres@${tollgate.db.location}` : '');

  it('lists with the API filters, records its own client changes, and prunes', async () => {
    const client = await registerClient(tollgate.url);
    expect((await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret)).status).toBe(200);
    await auditEvents(tollgate.url); // flushes the server's queue

    const listed = JSON.parse((await cli(['audit', 'list', '--client', client.client_id, '--type', 'token.issued'])).stdout);
    expect(listed.events).toEqual([expect.objectContaining({ type: 'token.issued', client_id: client.client_id })]);

    await cli(['client', 'update', client.client_id, '--name', 'from the cli']);
    const changed = await auditEvents(tollgate.url, { client_id: client.client_id, type: 'client.updated' });
    expect(changed.events[0]).toMatchObject({ actor: expect.stringMatching(/^cli:/), details: { status: 200, fields: ['client_name'] } });

    expect(await cli(['audit', 'list', '--limit', 'lots'])).toMatchObject({ code: 64, stderr: expect.stringContaining('--limit') });
    expect(await cli(['audit', 'prune'])).toMatchObject({ code: 64 });
    await tollgate.db.prisma.auditEvent.create({ data: { type: 'token.issued', outcome: 'success', time: new Date(Date.now() - 400 * 86_400_000) } });
    expect(JSON.parse((await cli(['audit', 'prune', '--older-than-days', '365'])).stdout)).toEqual({ deleted: 1 });
    expect((await auditEvents(tollgate.url, { type: 'audit.pruned' })).events[0]).toMatchObject({ details: { older_than_days: 365, deleted: 1 } });
  });
});
