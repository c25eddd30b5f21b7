// Faults of a real Redis, the test's own (test/helpers/redis-server.ts): frozen with SIGSTOP (the
// connection stays open, nothing answers), then killed and started again. Two instances share it.
// Whatever Redis does, no request fails, and once a frozen Redis has been noticed no request waits
// for it: counted by the instance's own count of timed-out Redis calls, not by a clock.
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPEN_AFTER_TIMEOUTS, RedisConnection } from '../../src/rate-limit/redis-connection.js';
import { clientCredentialsToken, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { metricsText, metricValue } from '../helpers/ops.js';
import { redisServerProgram, startRedisServer, type OwnRedis } from '../helpers/redis-server.js';
import { SERVER_TEST_TIMEOUT_MS, startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';

const program = redisServerProgram();
const FAILURES = 4;
const WRONG = 'wrong-secret-0123456789abcdef';

describe.skipIf(!program)('a Redis of its own, frozen and killed', () => {
  let redis: OwnRedis;
  let a: TestTollgate;
  let b: TestTollgate;
  let client: RegisteredClient;
  let limited: RegisteredClient;
  const statuses: number[] = [];

  const token = async (server: TestTollgate, id: string, secret: string) => {
    const { status } = await clientCredentialsToken(server.url, id, secret);
    statuses.push(status);
    return status;
  };
  const store = async (server: TestTollgate) => {
    const text = await metricsText(server.url);
    return { up: metricValue(text, 'tollgate_rate_limit_store_up'), timeouts: metricValue(text, 'tollgate_rate_limit_store_timeouts_total') };
  };
  const lines = (server: TestTollgate, msg: string) => server.logs.filter((line) => line.msg === msg);
  const warnings = (server: TestTollgate) => server.logs.filter((line) => line.level === 40 && /Redis/.test(String(line.msg)));
  /** The same client id on both instances (each has a database of its own; only the limits are shared). */
  const sharedClient = async () => {
    const clientId = `faults-${randomUUID().slice(0, 8)}`;
    const [onA, onB] = await Promise.all([registerClient(a.url, { client_id: clientId }), registerClient(b.url, { client_id: clientId })]);
    return { clientId, onA, onB };
  };

  beforeAll(async () => {
    redis = await startRedisServer(program!);
    const env = {
      RATE_LIMIT_ENABLED: 'true',
      REDIS_URL: redis.url,
      // Not shorter: a busy test machine can stall an event loop long enough to time out a command Redis answered.
      REDIS_TIMEOUT_MS: '1000',
      RATE_LIMIT_CLIENT_AUTH_FAILURES: String(FAILURES),
    };
    [a, b] = await Promise.all([startTollgate(env), startTollgate(env)]);
    [client, limited] = [await registerClient(a.url), await registerClient(a.url)];
  }, SERVER_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.close();
  });

  it('treats a frozen Redis as down: after the first timeouts no request waits for it, and it is used again once it answers', {
    timeout: SERVER_TEST_TIMEOUT_MS,
  }, async () => {
    await waitFor(async () => (await store(a)).up === 1 && (await store(b)).up === 1, 'both instances to use Redis');
    expect((await store(a)).timeouts).toBe(0);
    const [usedBefore, warnedBefore] = [lines(a, 'rate limits: using Redis').length, warnings(a).length];
    redis.freeze();

    // The first requests wait for Redis until OPEN_AFTER_TIMEOUTS commands in a row have timed out.
    for (let i = 0; i < 10 && lines(a, 'rate limits: Redis not answering, using in-memory limits until it answers again').length === 0; i++) {
      expect(await token(a, client.client_id, client.client_secret)).toBe(200);
    }
    expect(lines(a, 'rate limits: Redis not answering, using in-memory limits until it answers again')).toHaveLength(1);
    const opened = await store(a);
    expect(opened.up).toBe(0);
    expect(opened.timeouts).toBeGreaterThanOrEqual(OPEN_AFTER_TIMEOUTS);

    // From then on memory answers at once: not one more command timed out for a request.
    for (let i = 0; i < 20; i++) expect(await token(a, client.client_id, client.client_secret)).toBe(200);
    // And limits still hold, in memory.
    for (let i = 0; i < FAILURES; i++) expect(await token(a, limited.client_id, WRONG)).toBe(401);
    expect(await token(a, limited.client_id, limited.client_secret)).toBe(429);
    expect(await store(a)).toEqual({ up: 0, timeouts: opened.timeouts });

    redis.thaw();
    await waitFor(async () => (await store(a)).up === 1, 'Redis to be used again once it answers');
    expect(lines(a, 'rate limits: using Redis')).toHaveLength(usedBefore + 1);
    // One warning for the outage, however many probes failed while it lasted.
    expect(warnings(a)).toHaveLength(warnedBefore + 1);

    // Shared again: failures on both instances add up.
    const shared = await sharedClient();
    for (let i = 0; i < FAILURES / 2; i++) {
      expect(await token(a, shared.clientId, WRONG)).toBe(401);
      expect(await token(b, shared.clientId, WRONG)).toBe(401);
    }
    expect(await token(b, shared.clientId, shared.onB.client_secret)).toBe(429);
    expect(await token(a, shared.clientId, shared.onA.client_secret)).toBe(429);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
  });

  it('falls back at once when Redis is killed, and uses it again when it is back', { timeout: SERVER_TEST_TIMEOUT_MS }, async () => {
    await waitFor(async () => (await store(a)).up === 1, 'Redis in use');
    const before = await store(a);
    await redis.kill();
    await waitFor(async () => (await store(a)).up === 0, 'the fallback');
    for (let i = 0; i < 5; i++) expect(await token(a, client.client_id, client.client_secret)).toBe(200);
    // A closed connection fails commands at once: none timed out.
    expect((await store(a)).timeouts).toBe(before.timeouts);

    await redis.restart();
    await waitFor(async () => (await store(a)).up === 1 && (await store(b)).up === 1, 'both instances to use the restarted Redis');
    const shared = await sharedClient();
    for (let i = 0; i < FAILURES / 2; i++) {
      expect(await token(a, shared.clientId, WRONG)).toBe(401);
      expect(await token(b, shared.clientId, WRONG)).toBe(401);
    }
    expect(await token(a, shared.clientId, shared.onA.client_secret)).toBe(429);
    expect(statuses.filter((status) => status >= 500)).toEqual([]);
  });

  it('counts a transaction as one call: one frozen MULTI…EXEC does not open the breaker, a second does', { timeout: SERVER_TEST_TIMEOUT_MS }, async () => {
    // A connection of the test's own, so nothing else sends on it; the timeouts are Redis being frozen, not a clock.
    const connection = new RedisConnection({ url: redis.url, keyPrefix: 'faults:', timeoutMs: 300 }, pino({ level: 'silent' }));
    try {
      await connection.ready();
      expect(connection.up).toBe(true);
      // The limiter's `get`, as a request's failure check sends it: MULTI, GET, PTTL, EXEC in one pipeline.
      const limiter = new RateLimiterRedis({ storeClient: connection.client, points: 1, duration: 60, rejectIfRedisNotReady: true });
      redis.freeze();
      try {
        await expect(limiter.get('one-call')).rejects.toThrow();
        expect({ up: connection.up, timeouts: connection.timeouts }).toEqual({ up: true, timeouts: 1 });
        await expect(limiter.get('one-call')).rejects.toThrow();
        expect({ up: connection.up, timeouts: connection.timeouts }).toEqual({ up: false, timeouts: OPEN_AFTER_TIMEOUTS });
      } finally {
        redis.thaw();
      }
    } finally {
      await connection.close();
    }
  });
});
