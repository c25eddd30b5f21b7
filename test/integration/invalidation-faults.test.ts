// Two instances on a PostgreSQL cluster of the test's own, under real faults: the revoking
// instance's connections cut the moment its revocation commits (so it can send nothing more), the
// other instance's listening backend frozen (SIGSTOP), the whole cluster killed (SIGKILL) and
// restarted. A revocation answered 200 must end the token on the other instance within the
// documented bound (1 s, counted on the buses' clock, which the test moves ahead), and never come back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgBus } from '../../src/cache/pg-bus.js';
import { issueAndCache, startInstances, type Instances } from '../helpers/instances.js';
import { postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { startOwnPostgres, type OwnPostgres } from '../helpers/own-postgres.js';
import { ownPostgresAvailable } from '../helpers/requirements.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { usingPostgres } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';

/** How long after a change an instance may still answer from what it cached before (docs/operations.md). */
const STALE_BOUND_MS = 1000;

type Auth = [string, string];
const auth = (client: RegisteredClient): Auth => [client.client_id, client.client_secret];

/**
 * Per connection, watches what PostgreSQL sends for a DELETE's completion followed by ReadyForQuery
 * (its transaction committed and answered), and calls `committed` then.
 */
function afterEachDelete(committed: () => void): () => (chunk: Buffer) => void {
  return () => {
    let pending = Buffer.alloc(0);
    let deleted = false;
    return (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      // Backend messages: a type byte, then a length that counts itself but not the type.
      while (pending.length >= 5 && pending.length >= 1 + pending.readInt32BE(1)) {
        const type = String.fromCharCode(pending[0]!);
        if (type === 'C' && pending.subarray(5, 11).toString() === 'DELETE') deleted = true;
        if (type === 'Z' && deleted) {
          deleted = false;
          committed();
        }
        pending = pending.subarray(1 + pending.readInt32BE(1));
      }
    };
  };
}

describe.skipIf(!usingPostgres || !ownPostgresAvailable())('revocations across instances under database faults', () => {
  let cluster: OwnPostgres;
  /** Between instance A and the cluster; B connects directly. */
  let proxy: TcpProxy;
  let cutAfterNextDelete = false;
  let instances: Instances;
  let a: string;
  let b: string;
  let resourceServer: RegisteredClient;
  /** The instances' invalidation clock: real time, plus what the test moved it ahead by. */
  let ahead = 0;
  const advanceClock = (ms: number) => void (ahead += ms);

  const busOfB = () => instances.servers[1]!.app.caches.bus as PgBus;
  const introspect = (base: string, token: string) => postForm(base, '/introspect', { token }, auth(resourceServer));
  const isActive = async (base: string, token: string) => (await introspect(base, token)).body.active === true;

  const issueAndCacheOnB = (client: RegisteredClient) => issueAndCache(a, instances.servers[1]!, client, resourceServer);

  beforeAll(async () => {
    cluster = await startOwnPostgres();
    const url = await cluster.createDatabase('tollgate');
    proxy = await startTcpProxy(
      '127.0.0.1',
      cluster.port,
      afterEachDelete(() => {
        if (!cutAfterNextDelete) return;
        cutAfterNextDelete = false;
        // After the answer is passed on: A has its result, and nothing more reaches the database.
        setImmediate(() => void proxy.stop());
      }),
    );
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    instances = await startInstances(2, {}, { databaseUrls: [viaProxy.href, url], invalidationClock: () => performance.now() + ahead });
    [a, b] = instances.servers.map((server) => server.url) as [string, string];
    resourceServer = await registerClient(a, { resource_server: true });
    await introspect(b, 'warm-up');
  }, 60_000);

  afterAll(async () => {
    await instances?.close();
    await proxy?.close();
    await cluster?.close();
  });

  it('a revocation whose instance loses the database as it commits still ends the token on the other instance', async () => {
    const client = await registerClient(a);
    const token = await issueAndCacheOnB(client);

    cutAfterNextDelete = true;
    try {
      const revoked = await postForm(a, '/revoke', { token }, auth(client));
      expect(revoked.status).toBe(200);
      expect(cutAfterNextDelete).toBe(false); // the DELETE went through the proxy, which is stopped now

      // Within the bound B has heard of it, or stopped trusting its caches.
      advanceClock(STALE_BOUND_MS);
      expect(await isActive(b, token)).toBe(false);
      expect(await isActive(b, token)).toBe(false);
    } finally {
      cutAfterNextDelete = false;
      await proxy.start();
    }

    // A is back by itself now that the database is reachable again.
    await waitFor(async () => (await introspect(a, token)).status === 200, 'A to reach the database again', { timeoutMs: 20_000 });
    expect(await isActive(a, token)).toBe(false);
    expect(await isActive(b, token)).toBe(false);
  });

  it('an instance whose listening backend is frozen stops answering from its caches within the bound, and uses them again once it answers', async () => {
    const client = await registerClient(a);
    const token = await issueAndCacheOnB(client);
    const bus = busOfB();
    const pid = bus.listenerPid!;
    process.kill(pid, 'SIGSTOP');
    try {
      expect((await postForm(a, '/revoke', { token }, auth(client))).status).toBe(200);
      advanceClock(STALE_BOUND_MS);
      expect(bus.connected).toBe(false);
      expect(await isActive(b, token)).toBe(false);
      expect(await isActive(b, token)).toBe(false);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(() => bus.connected, 'B to trust its channel again', { timeoutMs: 10_000 });

    // Caching again, and hearing revocations again.
    const next = await issueAndCacheOnB(client);
    expect((await postForm(a, '/revoke', { token: next }, auth(client))).status).toBe(200);
    advanceClock(STALE_BOUND_MS);
    expect(await isActive(b, next)).toBe(false);
  });

  it('a cluster killed and restarted revives no revoked token, refuses revocations while down, and service returns by itself', async () => {
    const client = await registerClient(a);
    const tokens = [];
    for (let i = 0; i < 5; i += 1) tokens.push(await issueAndCacheOnB(client));
    const [first, second, refused, ...kept] = tokens as [string, string, string, ...string[]];
    for (const token of [first, second]) expect((await postForm(a, '/revoke', { token }, auth(client))).status).toBe(200);

    await cluster.kill();
    await waitFor(() => !busOfB().connected, 'B to notice its channel is gone', { timeoutMs: 10_000 });
    const whileDown = await postForm(a, '/revoke', { token: refused }, auth(client));
    expect(whileDown.status).toBe(503);
    expect(whileDown.headers.get('retry-after')).toBeTruthy();

    await cluster.start();
    for (const base of [a, b])
      await waitFor(async () => (await introspect(base, refused)).status === 200, `${base} to reach the database again`, { timeoutMs: 20_000 });
    await waitFor(() => busOfB().connected, 'B to listen again', { timeoutMs: 20_000 });
    for (const base of [a, b]) {
      for (const token of [first, second]) expect(await isActive(base, token)).toBe(false);
      for (const token of [refused, ...kept]) expect(await isActive(base, token)).toBe(true);
    }
  });
});
