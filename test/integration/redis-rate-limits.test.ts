// Rate limits kept in the machine's Redis (127.0.0.1:6379): shared by two instances, and replaced
// by in-memory limits, without failing a request, while Redis is unreachable.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsToken, registerClient } from '../helpers/oauth.js';
import { metricsText, metricValue } from '../helpers/ops.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { redisAvailable } from '../helpers/requirements.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';

const hasRedis = await redisAvailable();

// Each run (and each file run in parallel) counts under its own keys.
const prefix = () => `tollgate-test:${randomUUID()}:`;

describe.skipIf(!hasRedis)('two instances sharing one Redis', () => {
  let a: TestTollgate;
  let b: TestTollgate;
  beforeAll(async () => {
    const env = { RATE_LIMIT_ENABLED: 'true', REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: prefix(), RATE_LIMIT_CLIENT_AUTH_FAILURES: '4' };
    // Two servers, two databases: only the rate limits are shared.
    [a, b] = await Promise.all([startTollgate(env), startTollgate(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('counts failed authentications for a client id and address across both instances', async () => {
    const clientId = `shared-${randomUUID().slice(0, 8)}`;
    const [onA, onB] = await Promise.all([registerClient(a.url, { client_id: clientId }), registerClient(b.url, { client_id: clientId })]);
    const wrong = 'wrong-secret-0123456789abcdef';
    const statuses = [
      (await clientCredentialsToken(a.url, clientId, wrong)).status,
      (await clientCredentialsToken(b.url, clientId, wrong)).status,
      (await clientCredentialsToken(a.url, clientId, wrong)).status,
      (await clientCredentialsToken(b.url, clientId, wrong)).status,
    ];
    expect(statuses).toEqual([401, 401, 401, 401]);
    // Four failures from this address in all: neither instance verifies another secret for the
    // client from here, not even its right one (which neither has verified, so neither remembers).
    expect((await clientCredentialsToken(a.url, clientId, onA.client_secret)).status).toBe(429);
    expect((await clientCredentialsToken(b.url, clientId, onB.client_secret)).status).toBe(429);
    const metrics = await metricsText(a.url);
    expect(metricValue(metrics, 'tollgate_rate_limit_store_up')).toBe(1);
  });
});

describe.skipIf(!hasRedis)('Redis outage', () => {
  let proxy: TcpProxy;
  let tollgate: TestTollgate;
  beforeAll(async () => {
    proxy = await startTcpProxy('127.0.0.1', 6379);
    tollgate = await startTollgate({
      RATE_LIMIT_ENABLED: 'true',
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      REDIS_KEY_PREFIX: prefix(),
      RATE_LIMIT_CLIENT_AUTH_FAILURES: '2',
      REDIS_TIMEOUT_MS: '1000',
    });
  });
  afterAll(async () => {
    await tollgate?.close();
    await proxy?.close();
  });

  it('falls back to in-memory limits and logs it, failing no request; goes back to Redis when it returns', async () => {
    const client = await registerClient(tollgate.url);
    await waitFor(() => tollgate.rawLogs().includes('rate limits: using Redis'), 'the Redis connection');
    await proxy.stop();
    await waitFor(() => /falling back to in-memory limits/.test(tollgate.rawLogs()), 'the fallback to be logged');

    // Requests are served, and limits still hold, from memory.
    expect((await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret)).status).toBe(200);
    expect((await clientCredentialsToken(tollgate.url, client.client_id, 'wrong-secret-0123456789')).status).toBe(401);
    expect((await clientCredentialsToken(tollgate.url, client.client_id, 'wrong-secret-0123456789')).status).toBe(401);
    expect((await clientCredentialsToken(tollgate.url, client.client_id, 'wrong-secret-0123456789')).status).toBe(429);
    // The secret verified above is remembered: accepted without argon2, whatever the failures.
    expect((await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret)).status).toBe(200);
    const down = await metricsText(tollgate.url);
    expect(metricValue(down, 'tollgate_rate_limit_store_up')).toBe(0);

    await proxy.start();
    await waitFor(async () => metricValue(await metricsText(tollgate.url), 'tollgate_rate_limit_store_up') === 1, 'Redis to be used again');
    const other = await registerClient(tollgate.url);
    expect((await clientCredentialsToken(tollgate.url, other.client_id, other.client_secret)).status).toBe(200);
    const warnings = tollgate.logs.filter((line) => /Redis/.test(String(line.msg)) && line.level === 40);
    // One warning per outage, not one per request or reconnect attempt.
    expect(warnings.length).toBeLessThanOrEqual(2);
  });
});
