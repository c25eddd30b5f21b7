// Two real instances on one PostgreSQL database: what one of them revokes, deletes, rotates or
// registers (resource servers) is honoured by the other within a second, although the other answers
// from its caches; and an instance cut off from the notification channel stops using its caches
// until it is back.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgBus } from '../../src/cache/pg-bus.js';
import { DpopKey } from '../helpers/dpop.js';
import { admin, basic, clientCredentialsToken, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { issueAndCache, startInstances, type Instances } from '../helpers/instances.js';
import { usingPostgres } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';

type Auth = [string, string];
const auth = (client: RegisteredClient): Auth => [client.client_id, client.client_secret];

/** The requirement, not a speed measurement: a change must reach the other instance within 1 s. */
const PROPAGATION_DEADLINE_MS = 1000;

/** Resolves once `check` holds; rejects after the deadline. */
const eventually = (check: () => Promise<boolean>, timeoutMs = PROPAGATION_DEADLINE_MS) =>
  waitFor(check, `the expected state within ${timeoutMs} ms`, { timeoutMs, intervalMs: 20 });

describe.skipIf(!usingPostgres)('two instances on one PostgreSQL database', () => {
  let instances: Instances;
  let a: string;
  let b: string;
  let resourceServer: RegisteredClient;

  const introspect = (base: string, token: string, as: Auth = auth(resourceServer)) => postForm(base, '/introspect', { token }, as);
  const isActive = async (base: string, token: string, as?: Auth) => (await introspect(base, token, as)).body.active === true;
  const cachedOnB = () => instances.servers[1]!.app.caches.tokens.size;

  const issueAndCacheOnB = (client: RegisteredClient) => issueAndCache(a, instances.servers[1]!, client, resourceServer);

  beforeAll(async () => {
    instances = await startInstances(2);
    [a, b] = instances.servers.map((server) => server.url) as [string, string];
    resourceServer = await registerClient(a, { resource_server: true });
    await introspect(b, 'warm-up'); // B has now authenticated the resource server once
  });
  afterAll(() => instances?.close());

  it('a token issued by one instance is active on the other', async () => {
    await issueAndCacheOnB(await registerClient(a));
  });

  it('a revocation on A ends the token on B', async () => {
    const client = await registerClient(a);
    const token = await issueAndCacheOnB(client);
    expect((await postForm(a, '/revoke', { token }, auth(client))).status).toBe(200);
    await eventually(async () => !(await isActive(b, token)));
  });

  it('deleting a client on A ends its tokens on B', async () => {
    const client = await registerClient(a);
    const token = await issueAndCacheOnB(client);
    expect((await admin(a, 'DELETE', `/clients/${client.client_id}`)).status).toBe(204);
    await eventually(async () => !(await isActive(b, token)));
  });

  it('disabling a client on A ends its tokens and credentials on B', async () => {
    const client = await registerClient(a);
    const token = await issueAndCacheOnB(client);
    expect((await clientCredentialsToken(b, ...auth(client))).status).toBe(200); // B knows the client now
    expect((await admin(a, 'PATCH', `/clients/${client.client_id}`, { disabled: true })).status).toBe(200);
    await eventually(async () => !(await isActive(b, token)));
    await eventually(async () => (await clientCredentialsToken(b, ...auth(client))).status === 401);
  });

  it('rotating a secret on A makes B refuse the old one', async () => {
    const caller = await registerClient(a, { resource_server: true });
    const token = await issueAndCacheOnB(await registerClient(a));
    expect(await isActive(b, token, auth(caller))).toBe(true);
    expect(await isActive(b, token, auth(caller))).toBe(true); // authenticated from B's cache now
    const rotated = await admin(a, 'POST', `/clients/${caller.client_id}/secret`, {});
    expect(rotated.status).toBe(200);
    await eventually(async () => (await introspect(b, token, auth(caller))).status === 401);
    expect(await isActive(b, token, [caller.client_id, rotated.body.client_secret as string])).toBe(true);
  });

  it("B's copy of the resource servers follows their creation, change and deletion on A", async () => {
    const onB = () => instances.servers[1]!.app.resourceServers;
    const named = (identifier: string) => async () => (await onB().findByIdentifier(identifier))?.name;
    expect(await onB().findByIdentifier('https://shared.example')).toBeUndefined(); // B holds its copy now
    const created = await admin(a, 'POST', '/resource-servers', { identifier: 'https://shared.example', name: 'Shared' });
    expect(created.status).toBe(201);
    await eventually(async () => (await named('https://shared.example')()) === 'Shared');
    expect((await admin(a, 'PATCH', `/resource-servers/${created.body.id as string}`, { name: 'Renamed' })).status).toBe(200);
    await eventually(async () => (await named('https://shared.example')()) === 'Renamed');
    expect((await admin(a, 'DELETE', `/resource-servers/${created.body.id as string}`)).status).toBe(204);
    await eventually(async () => (await onB().findByIdentifier('https://shared.example')) === undefined);
  });

  it('an instance that loses the channel drops its caches and uses none until it is back', async () => {
    const bus = instances.servers[1]!.app.caches.bus as PgBus;
    const client = await registerClient(a);
    const token = await issueAndCacheOnB(client);
    expect(bus.connected).toBe(true);

    const pid = bus.listenerPid;
    const killer = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await killer.connect();
    try {
      await killer.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await killer.end();
    }
    await eventually(async () => !bus.connected || bus.listenerPid !== pid, 5000);
    // Whatever was cached when the channel went down is gone: it may have missed a revocation.
    expect(cachedOnB()).toBe(0);

    // It comes back by itself and caches again.
    await eventually(async () => bus.connected, 10_000);
    expect(bus.listenerPid).not.toBe(pid);
    await eventually(async () => (await isActive(b, token)) && cachedOnB() === 1, 10_000);
    expect(instances.logs[1]).toContain('lost the cache invalidation channel');

    // And hears revocations again.
    expect((await postForm(a, '/revoke', { token }, auth(client))).status).toBe(200);
    await eventually(async () => !(await isActive(b, token)));
  });

  it('a DPoP proof used on one instance is refused on the other, from any client', async () => {
    const [first, second] = [await registerClient(a, { scope: 'read' }), await registerClient(a, { scope: 'read' })];
    const send = async (base: string, client: RegisteredClient, proof: string) => {
      const response = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(...auth(client)), dpop: proof },
        body: 'grant_type=client_credentials',
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    // One proof for the token endpoint (its htu is the shared issuer's, whichever instance answers), used on A...
    const proof = new DpopKey().proof('http://127.0.0.1/token');
    const used = await send(a, first, proof);
    expect(used.status, JSON.stringify(used.body)).toBe(200);
    // ...is refused on B, whichever client presents it.
    for (const client of [first, second]) {
      const replay = await send(b, client, proof);
      expect(replay.status).toBe(400);
      expect(replay.body.error).toBe('invalid_dpop_proof');
    }
  });

  it('an admin token loses its rights on every instance once its client may no longer be granted scope admin', async () => {
    const operator = await registerClient(a, { scope: 'admin' });
    const held = (await clientCredentialsToken(a, ...auth(operator), 'admin')).body.access_token as string;
    expect((await admin(b, 'GET', '/clients', undefined, held)).status).toBe(200);
    expect((await admin(a, 'PATCH', `/clients/${operator.client_id}`, { scope: 'read' })).status).toBe(200);
    await eventually(async () => (await admin(b, 'GET', '/clients', undefined, held)).status === 403);
  });

  it('logged no error on either instance (a failed NOTIFY is logged as one)', () => {
    for (const log of instances.logs) {
      const errors = log
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .filter((line) => line.level >= 50);
      expect(errors).toEqual([]);
    }
  });
});
