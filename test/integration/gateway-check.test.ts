// The gateway check over HTTP, as gateways call it: served on GATEWAY_PORT only, GATEWAY_KEY,
// the header conventions of nginx, Caddy/Traefik and Envoy, and its answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerClient, clientCredentialsToken } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

const KEY = 'gateway-key-0123456789abcdefghijklmnopqrstuvwxyz';

let tollgate: TestTollgate;
let gateway: string;

beforeAll(async () => {
  tollgate = await startTollgate({ GATEWAY_PORT: '0', GATEWAY_KEY: KEY });
  gateway = tollgate.running.gatewayUrl!;
});
afterAll(() => tollgate?.close());

async function check(headers: Record<string, string>, path = '/gateway/check', method = 'GET') {
  const response = await fetch(`${gateway}${path}`, { method, headers: { 'x-gateway-key': KEY, ...headers } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

describe('who may ask', () => {
  it('is not served on the main port', async () => {
    for (const path of ['/gateway/check', '/gateway/check/x', '/gateway']) {
      const response = await fetch(`${tollgate.url}${path}`, { headers: { 'x-gateway-key': KEY, 'x-original-uri': '/' } });
      expect(response.status, path).toBe(404);
    }
  });

  it('serves nothing else on the gateway port', async () => {
    for (const path of ['/token', '/healthz', '/admin/clients', '/gateway']) {
      const response = await check({ 'x-original-uri': '/' }, path);
      expect(response.status, path).toBe(404);
      expect(response.body.error).toBe('not_found');
    }
  });

  it('asks callers for GATEWAY_KEY, compared whole', async () => {
    for (const key of [undefined, 'wrong', KEY.slice(0, -1), `${KEY}x`]) {
      const response = await fetch(`${gateway}/gateway/check`, { headers: { 'x-original-uri': '/', ...(key === undefined ? {} : { 'x-gateway-key': key }) } });
      expect(response.status, String(key)).toBe(401);
      expect(await response.json()).toMatchObject({ error: 'invalid_client' });
    }
    expect((await check({ 'x-original-uri': '/' })).status).toBe(401);
    expect((await check({ 'x-original-uri': '/' })).body.error_description).toBe('an access token is required');
  });

  it('logs its requests like every other, without the token', async () => {
    const response = await check({ 'x-original-uri': '/secret?q=1', authorization: 'Bearer not-a-real-token-value', 'x-request-id': 'gateway-req-1' });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-request-id')).toBe('gateway-req-1');
    const line = tollgate.logs.find((entry) => entry.requestId === 'gateway-req-1');
    expect(line).toMatchObject({ msg: 'request', method: 'GET', path: '/gateway/check', status: 401 });
    expect(tollgate.rawLogs()).not.toContain('not-a-real-token-value');
  });
});

describe('the original request', () => {
  it('refuses a check that does not say which request it is about', async () => {
    const response = await check({});
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
  });

  it('answers a request without a token 401 with a challenge for either scheme (RFC 6750 §3.1: no error code)', async () => {
    const conventions: Record<string, string>[] = [{ 'x-original-uri': '/api/x' }, { 'x-forwarded-uri': '/api/x', 'x-forwarded-method': 'POST' }];
    for (const headers of conventions) {
      const response = await check(headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer, DPoP algs="ES256 Ed25519 EdDSA"');
    }
    // Envoy: the original method, and the original path after the check's.
    expect((await check({}, '/gateway/check/api/x', 'DELETE')).status).toBe(401);
  });

  it('answers an unknown token 401 invalid_token in the scheme it came with', async () => {
    const bearer = await check({ 'x-original-uri': '/api/x', authorization: 'Bearer unknown-token' });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="/);
    const dpop = await check({ 'x-original-uri': '/api/x', authorization: 'DPoP unknown-token' });
    expect(dpop.headers.get('www-authenticate')).toMatch(/^DPoP algs="ES256 Ed25519 EdDSA", error="invalid_token"/);
    const malformed = await check({ 'x-original-uri': '/api/x', authorization: 'Basic dXNlcjpwYXNz' });
    expect(malformed.status).toBe(401);
  });

  it('denies by default: a valid token on a path no rule names is 403 insufficient_scope', async () => {
    const client = await registerClient(tollgate.url, { scope: 'read' });
    const { body } = await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret, 'read');
    const response = await check({ 'x-original-uri': '/nowhere', authorization: `Bearer ${body.access_token as string}` });
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
  });
});
