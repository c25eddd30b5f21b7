// Metrics, request ids, security headers and the log's discretion, on whichever store the run uses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, adminToken, basic, clientCredentialsToken, postForm, registerClient } from '../helpers/oauth.js';
import { auditEvents, metricsText, metricValue } from '../helpers/ops.js';
import { rawRequest } from '../helpers/raw-http.js';
import { ADMIN_CLIENT_SECRET, startTollgate, TEST_METRICS_TOKEN, type TestTollgate } from '../helpers/tollgate.js';

let tollgate: TestTollgate;
beforeAll(async () => {
  tollgate = await startTollgate({ LOG_LEVEL: 'trace', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_CLIENT_AUTH_FAILURES: '2' });
});
afterAll(() => tollgate?.close());

describe('GET /metrics', () => {
  it('counts requests by endpoint and status, times them, and counts tokens by grant type', async () => {
    const client = await registerClient(tollgate.url);
    expect((await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret)).status).toBe(200);
    expect((await admin(tollgate.url, 'GET', `/clients/${client.client_id}`)).status).toBe(200);
    expect((await fetch(`${tollgate.url}/no-such-path-${client.client_id}`)).status).toBe(404);

    const response = await fetch(`${tollgate.url}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(metricValue(text, 'tollgate_tokens_issued_total', { grant_type: 'client_credentials', token_type: 'Bearer' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'tollgate_http_requests_total', { endpoint: '/token', method: 'POST', status: '200' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'tollgate_http_requests_total', { endpoint: '/admin/clients/:id', method: 'GET', status: '200' })).toBe(1);
    expect(metricValue(text, 'tollgate_http_requests_total', { endpoint: 'other', method: 'GET', status: '404' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'tollgate_http_request_duration_seconds_count', { endpoint: '/token', method: 'POST', outcome: '2xx' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'tollgate_audit_queue_depth')).toBeGreaterThanOrEqual(0);
    expect(metricValue(text, 'tollgate_process_resident_memory_bytes')).toBeGreaterThan(0);
    // Without REDIS_URL there is no store to be up or down: no gauge that would read as "fell back".
    expect(metricValue(text, 'tollgate_rate_limit_store_up')).toBeUndefined();
    expect(metricValue(text, 'tollgate_rate_limit_store_timeouts_total')).toBeUndefined();
    // Label values come from route patterns, never from what a caller put in a path.
    expect(text).not.toContain(client.client_id);
  });

  it('counts refused requests and failed token requests', async () => {
    const client = await registerClient(tollgate.url);
    for (let i = 0; i < 3; i++) await clientCredentialsToken(tollgate.url, client.client_id, 'wrong-secret-0123456789abcdef');
    const text = await metricsText(tollgate.url);
    expect(metricValue(text, 'tollgate_token_errors_total', { endpoint: 'token', error: 'invalid_client' })).toBeGreaterThanOrEqual(2);
    expect(metricValue(text, 'tollgate_rate_limit_rejections_total', { limit: 'client_auth_failures' })).toBeGreaterThanOrEqual(1);
    expect(metricValue(text, 'tollgate_refresh_token_reuse_detected_total')).toBe(0);
  });

  it('with METRICS_PORT, is served on that port only (METRICS_HOST, 127.0.0.1 by default)', async () => {
    const separate = await startTollgate({ METRICS_PORT: '0' });
    try {
      expect(separate.running.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const scraped = await fetch(separate.running.metricsUrl!);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('tollgate_http_requests_total');
      expect((await fetch(`${separate.url}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } })).status).toBe(404);
      expect((await fetch(separate.running.metricsUrl!.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await separate.close();
    }
  });
});

describe('routes refused before their handler', () => {
  // Whoever refuses a request (the pipeline, the admin guard, body parsing, the router, a page's
  // session check), it is logged and counted under its route's pattern, never under its raw path.
  const clientId = 'label-client-0123456789';
  const json = { 'content-type': 'application/json' };
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  type Bearer = 'none' | 'admin' | 'without scope admin';
  const refusals: [label: string, method: string, path: string, bearer: Bearer, headers: Record<string, string>, body: string | undefined, status: number][] = [
    ['/admin/clients/:id', 'GET', `/admin/clients/${clientId}`, 'none', {}, undefined, 401],
    ['/admin/clients/:id', 'PATCH', `/admin/clients/${clientId}`, 'without scope admin', json, '{}', 403],
    ['/admin/clients/:id', 'PUT', `/admin/clients/${clientId}`, 'admin', json, '{}', 405],
    ['/admin/clients', 'POST', '/admin/clients', 'admin', { 'content-type': 'text/plain' }, 'x', 415],
    ['/admin/clients', 'POST', '/admin/clients', 'admin', json, '{not json', 400],
    ['/admin/clients/:id/secret', 'POST', `/admin/clients/${clientId}/secret`, 'admin', json, '[', 400],
    ['/admin/*', 'GET', `/admin/no-such-route/${clientId}`, 'admin', {}, undefined, 404],
    ['/console/users/:id/enabled', 'POST', `/console/users/${clientId}/enabled`, 'none', form, 'enabled=false', 401],
    ['/console/users/:id/enabled', 'POST', `/console/users/${clientId}/enabled`, 'none', json, '{}', 415],
    ['/interaction/:uid/login', 'POST', `/interaction/${clientId}/login`, 'none', json, '{}', 415],
  ];

  it.each(refusals)('logs and counts as %s: %s %s (%s) answered %#', async (label, method, path, bearer, headers, body, status) => {
    const requestId = `labels-${status}-${method}-${path.length}`;
    const token = bearer === 'admin' ? await adminToken(tollgate.url) : bearer === 'without scope admin' ? await readToken() : undefined;
    const authorization: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const response = await fetch(`${tollgate.url}${path}`, { method, headers: { ...headers, ...authorization, 'x-request-id': requestId }, body });
    expect(response.status).toBe(status);
    await response.arrayBuffer();
    expectLabelled(requestId, label, method, status);
  });

  it('logs and counts as /admin/clients/:id a body too large to read (413)', async () => {
    const requestId = 'labels-413';
    const reply = await rawRequest(
      tollgate.url,
      `POST /admin/clients/${clientId} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 20000\r\nX-Request-Id: ${requestId}\r\n\r\n`,
    );
    expect(reply.status).toBe(413);
    expectLabelled(requestId, '/admin/clients/:id', 'POST', 413);
  });

  it('counts each of them under its pattern in /metrics, never under a raw path or a router regex', async () => {
    const text = await metricsText(tollgate.url);
    for (const [label, method, , , , , status] of [...refusals, ['/admin/clients/:id', 'POST', '', 'none', {}, undefined, 413] as const]) {
      expect(
        metricValue(text, 'tollgate_http_requests_total', { endpoint: label, method, status: String(status) }),
        `${method} ${label} ${status}`,
      ).toBeGreaterThanOrEqual(1);
    }
    expect(text).not.toContain(clientId);
    expect(text).not.toContain('(?:');
  });

  async function readToken(): Promise<string> {
    const client = await registerClient(tollgate.url, { scope: 'read' });
    return (await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret, 'read')).body.access_token as string;
  }

  /** The request's line names its route's pattern. */
  function expectLabelled(requestId: string, label: string, method: string, status: number): void {
    const line = tollgate.logs.find((entry) => entry.msg === 'request' && entry.requestId === requestId);
    expect(line, `no request line for ${requestId}`).toBeDefined();
    expect({ method: line!.method, path: line!.path, status: line!.status }).toEqual({ method, path: label, status });
  }
});

describe('request ids', () => {
  it('accepts a well-formed X-Request-Id, returns it, and puts it in the log and the audit trail', async () => {
    const client = await registerClient(tollgate.url);
    const response = await fetch(`${tollgate.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(client.client_id, client.client_secret),
        'x-request-id': 'trace-me-42',
      },
      body: 'grant_type=client_credentials',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('trace-me-42');
    expect(tollgate.logs.some((line) => line.msg === 'request' && line.requestId === 'trace-me-42' && line.path === '/token')).toBe(true);
    expect((await auditEvents(tollgate.url, { client_id: client.client_id, type: 'token.issued' })).events[0]!.request_id).toBe('trace-me-42');

    const replaced = await fetch(`${tollgate.url}/healthz`, { headers: { 'x-request-id': 'no spaces or "quotes" allowed' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('security headers', () => {
  const expectHardened = (headers: Headers) => {
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(headers.get('x-frame-options')).toBe('DENY');
  };

  it('are on every kind of response; HSTS only when the issuer is https', async () => {
    const responses = [
      await fetch(`${tollgate.url}/healthz`),
      await fetch(`${tollgate.url}/no-such-path`),
      await fetch(`${tollgate.url}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } }),
      (await clientCredentialsToken(tollgate.url, 'nobody', 'wrong-secret-0123456789')) as unknown as Response,
      await fetch(`${tollgate.url}/admin/clients`),
    ];
    for (const response of responses) {
      expectHardened(response.headers);
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }

    const https = await startTollgate({ ISSUER: 'https://auth.example.com' });
    try {
      for (const path of ['/healthz', '/no-such-path', '/.well-known/oauth-authorization-server']) {
        const response = await fetch(`${https.url}${path}`);
        expectHardened(response.headers);
        expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
      }
    } finally {
      await https.close();
    }
  });
});

describe('the log at trace level', () => {
  it('never holds a secret, token or Authorization header from rate-limited, audited or failed requests', async () => {
    const client = await registerClient(tollgate.url);
    const wrong = 'a-wrong-secret-that-must-stay-out-of-the-log-42';
    const issued = await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret);
    const token = issued.body.access_token as string;
    await postForm(tollgate.url, '/introspect', { token }, [client.client_id, client.client_secret]);
    await postForm(tollgate.url, '/revoke', { token }, [client.client_id, client.client_secret]);
    for (let i = 0; i < 4; i++) await clientCredentialsToken(tollgate.url, client.client_id, wrong); // ends in 429
    await postForm(tollgate.url, '/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: wrong });
    const bearer = await adminToken(tollgate.url);
    await auditEvents(tollgate.url, {}, bearer);

    const raw = tollgate.rawLogs();
    expect(raw).toContain('"msg":"request"');
    for (const secret of [
      client.client_secret,
      wrong,
      token,
      bearer,
      ADMIN_CLIENT_SECRET,
      basic(client.client_id, wrong).slice(6),
      basic(client.client_id, client.client_secret).slice(6),
    ]) {
      expect(raw.includes(secret), `a credential (${secret.slice(0, 6)}…) is in the log`).toBe(false);
    }
  });
});
