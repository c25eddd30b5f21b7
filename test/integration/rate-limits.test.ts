// Rate limits, in memory (the default), on whichever store the run uses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { admin, adminToken, basic, clientCredentialsToken, postForm, registerClient } from '../helpers/oauth.js';
import { metricsText, metricValue } from '../helpers/ops.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

const tooMany = expect.objectContaining({ error: 'too_many_requests', error_description: expect.any(String) });

describe('failed client authentication', () => {
  let tollgate: TestTollgate;
  beforeAll(async () => {
    tollgate = await startTollgate({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_CLIENT_AUTH_FAILURES: '3', RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP: '1000' });
  });
  afterAll(() => tollgate?.close());

  it('hammering /token with a wrong secret ends in 429 with Retry-After, and that address may not have a secret verified for the client until the window ends', async () => {
    const client = await registerClient(tollgate.url);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await clientCredentialsToken(tollgate.url, client.client_id, 'wrong-secret-0123456789')).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);

    const refused = await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret);
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual(tooMany);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    // client_secret_post is counted against the same client at the same address.
    const posted = await postForm(tollgate.url, '/token', {
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    expect(posted.status).toBe(429);
    // Another client is not affected.
    const other = await registerClient(tollgate.url);
    expect((await clientCredentialsToken(tollgate.url, other.client_id, other.client_secret)).status).toBe(200);

    const metrics = await metricsText(tollgate.url);
    expect(metricValue(metrics, 'tollgate_rate_limit_rejections_total', { limit: 'client_auth_failures' })).toBeGreaterThanOrEqual(4);
  });

  it('counts wrong secrets sent in the body (client_secret_post) too', async () => {
    const client = await registerClient(tollgate.url, { token_endpoint_auth_method: 'client_secret_post' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await postForm(tollgate.url, '/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: 'wrong-secret-0123456789' }))
          .status,
      );
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

describe('per-address limits and TRUST_PROXY', () => {
  it('limits /token per source address; X-Forwarded-For is ignored unless TRUST_PROXY', async () => {
    for (const trustProxy of ['false', 'true']) {
      const tollgate = await startTollgate({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_TOKEN_PER_IP: '3', TRUST_PROXY: trustProxy });
      try {
        const client = await registerClient(tollgate.url);
        const from = async (address: string) =>
          (
            await fetch(`${tollgate.url}/token`, {
              method: 'POST',
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                authorization: basic(client.client_id, client.client_secret),
                'x-forwarded-for': address,
              },
              body: 'grant_type=client_credentials',
            })
          ).status;
        // The admin token for registerClient used one request from 127.0.0.1 (no X-Forwarded-For).
        const statuses = [await from('203.0.113.1'), await from('203.0.113.1'), await from('203.0.113.2'), await from('203.0.113.2')];
        if (trustProxy === 'true') expect(statuses).toEqual([200, 200, 200, 200]);
        else expect(statuses).toEqual([200, 200, 429, 429]);
      } finally {
        await tollgate.close();
      }
    }
  });

  it('limits the admin API per address and per admin client, and introspection per client', async () => {
    const tollgate = await startTollgate({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_ADMIN_PER_IP: '4', RATE_LIMIT_INTROSPECT_PER_CLIENT: '2' });
    try {
      const token = await adminToken(tollgate.url);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await admin(tollgate.url, 'GET', '/clients', undefined, token)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
      const refused = await admin(tollgate.url, 'GET', '/clients', undefined, token);
      expect(refused.body).toEqual(tooMany);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);

      const introspections: number[] = [];
      for (let i = 0; i < 3; i++)
        introspections.push(
          (await postForm(tollgate.url, '/introspect', { token: 'x'.repeat(43) }, ['test-admin', 'test-admin-secret-0123456789abcdefghijklmnopqrstuvwxyz']))
            .status,
        );
      expect(introspections).toEqual([200, 200, 429]);
    } finally {
      await tollgate.close();
    }
  });

  it('RATE_LIMIT_ENABLED=false turns every limit off (they are on by default)', async () => {
    expect(loadConfig({}).rateLimit).toMatchObject({ enabled: true, clientAuthFailures: 20, endpoints: { token_ip: 1200 } });
    const tollgate = await startTollgate({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_CLIENT_AUTH_FAILURES: '1', RATE_LIMIT_TOKEN_PER_IP: '1' });
    try {
      const client = await registerClient(tollgate.url);
      for (let i = 0; i < 3; i++) expect((await clientCredentialsToken(tollgate.url, client.client_id, 'wrong-secret-0123456789')).status).toBe(401);
      expect((await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret)).status).toBe(200);
    } finally {
      await tollgate.close();
    }
  });
});
