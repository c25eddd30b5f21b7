// Hostile and malformed requests against a real server: every one gets an RFC 6749 §5.2 JSON error
// (or the RFC 7662/7009 answer for an unknown token), never a 500, a stack trace, HTML or a hang.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, basic, clientCredentialsToken, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { pkcePair } from '../helpers/browser-agent.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { registerAppClient, REDIRECT_URI } from '../helpers/users.js';

const FORM = 'application/x-www-form-urlencoded';
const ENDPOINTS = ['/token', '/introspect', '/revoke'] as const;
/** RFC 6749 §5.1 and RFC 7662 §4 require no-store on these; RFC 7009 does not for /revoke. */
const NO_STORE = new Set(['/token', '/introspect']);

/** How many clients the server had once the test's own was registered: the injection attempts must not change it. */
let clientsBefore: number;
let tollgate: TestTollgate;
let client: RegisteredClient;
let token: string;

beforeAll(async () => {
  tollgate = await startTollgate();
  client = await registerClient(tollgate.url, { scope: 'read' });
  const issued = await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret);
  token = issued.body.access_token as string;
  clientsBefore = await tollgate.db.prisma.client.count();
});
afterAll(() => tollgate?.close());

interface Reply {
  path: string;
  method: string;
  status: number;
  headers: Headers;
  text: string;
}

/** One request with a deadline, so a hang fails the test instead of stalling it. */
async function send(path: string, init: RequestInit & { duplex?: 'half' } = {}): Promise<Reply> {
  const response = await fetch(`${tollgate.url}${path}`, { method: 'POST', ...init, signal: AbortSignal.timeout(10_000) });
  return { path, method: init.method ?? 'POST', status: response.status, headers: response.headers, text: await response.text() };
}

const post = (path: string, body: string, headers: Record<string, string> = {}) => send(path, { body, headers: { 'content-type': FORM, ...headers } });

const auth = () => ({ authorization: basic(client.client_id, client.client_secret) });

/** Asserts an RFC 6749 §5.2 error: status, JSON content type, `error`, `error_description`, no internals. */
function expectOAuthError(reply: Reply, status: number, error?: string): Record<string, unknown> {
  const context = `${reply.method} ${reply.path} → ${reply.status} ${reply.text}`;
  expect(reply.status, context).toBe(status);
  expect(reply.headers.get('content-type'), context).toMatch(/^application\/json\b/);
  expect(reply.headers.get('x-content-type-options'), context).toBe('nosniff');
  if (NO_STORE.has(reply.path)) expect(reply.headers.get('cache-control'), context).toBe('no-store');
  if (reply.method === 'HEAD') return {};
  const body = JSON.parse(reply.text) as Record<string, unknown>;
  expect(typeof body.error, context).toBe('string');
  expect(typeof body.error_description, context).toBe('string');
  if (error) expect(body.error, context).toBe(error);
  expect(reply.text, context).not.toMatch(/\bat .+:\d+:\d+|node_modules|Prisma|<html/i);
  return body;
}

describe('request bodies', () => {
  it.each(ENDPOINTS)('%s refuses bodies that are not application/x-www-form-urlencoded', async (path) => {
    const form = new FormData();
    form.set('grant_type', 'client_credentials');
    form.set('token', token);
    for (const reply of [
      await send(path, { body: JSON.stringify({ grant_type: 'client_credentials', token }), headers: { 'content-type': 'application/json', ...auth() } }),
      await send(path, { body: `grant_type=client_credentials&token=${token}`, headers: { 'content-type': 'text/plain', ...auth() } }),
      await send(path, { body: form, headers: auth() }),
    ]) {
      const body = expectOAuthError(reply, 400, 'invalid_request');
      expect(body.error_description).toMatch(/x-www-form-urlencoded/);
    }
  });

  it.each(ENDPOINTS)('%s answers an empty body with the missing parameter', async (path) => {
    const missing = path === '/token' ? 'grant_type' : 'token';
    for (const reply of [await post(path, '', auth()), await send(path, { headers: auth() })]) {
      expect(expectOAuthError(reply, 400, 'invalid_request').error_description).toContain(missing);
    }
  });

  it.each(ENDPOINTS)('%s refuses a body over 16 KiB with 413 before reading it', async (path) => {
    const reply = await post(path, `grant_type=client_credentials&token=${'a'.repeat(17 * 1024)}`, auth());
    expectOAuthError(reply, 413, 'invalid_request');
  });

  it.each(ENDPOINTS)('%s refuses a chunked body without Content-Length with 411', async (path) => {
    // Form bodies are in memory, so OAuth clients send Content-Length; without one, the 16 KiB limit
    // could only be enforced while streaming. The answer is an explicit 411, however large the body.
    for (const size of [10, 64 * 1024]) {
      const chunk = new TextEncoder().encode(`grant_type=client_credentials&x=${'a'.repeat(size)}`);
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(chunk);
          controller.close();
        },
      });
      const reply = await send(path, { body, duplex: 'half', headers: { 'content-type': FORM, ...auth() } });
      expectOAuthError(reply, 411, 'invalid_request');
    }
  });

  it('refuses compressed bodies with 415 on every route that reads bodies', async () => {
    const admin = await adminToken(tollgate.url);
    const requests: [string, Record<string, string>, string][] = [
      ['/admin/clients', { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, '{}'],
      ['/admin/users', { 'content-type': 'application/json', authorization: `Bearer ${admin}` }, '{"username":"x"}'],
      ['/interaction/abc/login', { 'content-type': FORM }, 'login=a&password=b'],
      ['/auth', { 'content-type': FORM }, 'client_id=x'],
      ...ENDPOINTS.map((path): [string, Record<string, string>, string] => [
        path,
        { 'content-type': FORM, ...auth() },
        `grant_type=client_credentials&token=${token}`,
      ]),
    ];
    for (const [path, headers, body] of requests) {
      for (const encoding of ['gzip', 'deflate', 'br', 'x-unknown']) {
        expectOAuthError({ ...(await send(path, { body, headers: { ...headers, 'content-encoding': encoding } })), path }, 415, 'invalid_request');
      }
    }
    expect((await post('/introspect', `token=${token}`, { ...auth(), 'content-encoding': 'identity' })).status).toBe(200);
  });

  it('/token reads broken urlencoding as missing or unknown parameters', async () => {
    for (const body of ['%%%', '=&=&', '&&&&', 'grant_type']) {
      expectOAuthError(await post('/token', body, auth()), 400, 'invalid_request');
    }
    for (const body of ['grant_type=%ZZ', 'grant_type=%FF%FE', 'grant_type=client_credentials%00']) {
      expectOAuthError(await post('/token', body, auth()), 400, 'unsupported_grant_type');
    }
  });

  it('refuses duplicated parameters', async () => {
    const twice = 'grant_type=client_credentials&grant_type=client_credentials';
    expect(expectOAuthError(await post('/token', twice, auth()), 400, 'invalid_request').error_description).toContain('grant_type');
    for (const path of ['/introspect', '/revoke']) {
      const reply = await post(path, `token=${token}&token=${token}`, auth());
      expect(expectOAuthError(reply, 400, 'invalid_request').error_description).toContain('token');
    }
    const secretTwice = new URLSearchParams([
      ['grant_type', 'client_credentials'],
      ['client_id', client.client_id],
      ['client_secret', client.client_secret],
      ['client_secret', client.client_secret],
    ]);
    expectOAuthError(await post('/token', secretTwice.toString()), 400, 'invalid_request');
  });
});

describe('grant types', () => {
  it.each([
    'password',
    'implicit',
    'urn:ietf:params:oauth:grant-type:device_code',
    'urn:ietf:params:oauth:grant-type:token-exchange',
    'CLIENT_CREDENTIALS',
    'made-up',
  ])('answers grant_type=%s with unsupported_grant_type', async (grantType) => {
    expectOAuthError(await post('/token', new URLSearchParams({ grant_type: grantType }).toString(), auth()), 400, 'unsupported_grant_type');
  });

  it('answers a missing grant_type with invalid_request', async () => {
    const body = expectOAuthError(await post('/token', 'scope=read', auth()), 400, 'invalid_request');
    expect(body.error_description).toContain('grant_type');
  });
});

describe('client authentication', () => {
  const grant = 'grant_type=client_credentials';

  it.each(ENDPOINTS)('%s answers a wrong secret or unknown client with 401 invalid_client and a challenge', async (path) => {
    for (const [id, secret] of [
      [client.client_id, 'wrong-secret'],
      ['no-such-client', 'whatever'],
    ] as const) {
      const reply = await post(path, `${grant}&token=${token}`, { authorization: basic(id, secret) });
      expectOAuthError(reply, 401, 'invalid_client');
      expect(reply.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+", error="invalid_client"/);
    }
  });

  it.each(ENDPOINTS)('%s refuses malformed Basic headers with 400 invalid_request', async (path) => {
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    for (const header of [
      'Basic !!!not-base64',
      `Basic ${b64('no-colon-here')}`,
      'Basic ',
      'Basic',
      `Basic ${b64(':')}`,
      `Basic ${b64(`${client.client_id}:`)}`,
      'Basic a b',
      'Bearer abc',
    ]) {
      expectOAuthError(await post(path, `${grant}&token=${token}`, { authorization: header }), 400, 'invalid_request');
    }
  });

  it.each(ENDPOINTS)('%s refuses oversized secrets and client ids with invalid_client', async (path) => {
    const huge = 's'.repeat(10 * 1024);
    for (const headers of [{ authorization: basic(client.client_id, huge) }, { authorization: basic(huge, 'secret') }]) {
      expectOAuthError(await post(path, `${grant}&token=${token}`, headers), 401, 'invalid_client');
    }
    const form = new URLSearchParams({ grant_type: 'client_credentials', token, client_id: client.client_id, client_secret: huge });
    expectOAuthError(await post(path, form.toString()), 401, 'invalid_client');
  });

  it.each(ENDPOINTS)('%s refuses non-ASCII client ids and secrets', async (path) => {
    // RFC 6749 §2.3.1: Basic credentials are form-urlencoded; raw UTF-8 there is malformed.
    const raw = `Basic ${Buffer.from(`clïent😀:sëcret😀`, 'utf8').toString('base64')}`;
    expectOAuthError(await post(path, `${grant}&token=${token}`, { authorization: raw }), 400, 'invalid_request');
    // Properly encoded, they still name no client and match no secret.
    expectOAuthError(await post(path, `${grant}&token=${token}`, { authorization: basic('clïent😀', 'sëcret😀') }), 400, 'invalid_request');
    for (const [id, secret] of [
      ['clïent😀', 'sëcret😀'],
      [client.client_id, 'sëcret😀'],
    ]) {
      const form = new URLSearchParams({ grant_type: 'client_credentials', token, client_id: id!, client_secret: secret! });
      expectOAuthError(await post(path, form.toString()), 401, 'invalid_client');
    }
  });

  it.each(ENDPOINTS)('%s treats SQL metacharacters and NUL bytes as plain data', async (path) => {
    const hostile = ["' OR 1=1 --", '"; DROP TABLE clients; --', 'a\u0000b', `${client.client_id}\u0000`];
    for (const value of hostile) {
      const asId = new URLSearchParams({ grant_type: 'client_credentials', token, client_id: value, client_secret: client.client_secret });
      expectOAuthError(await post(path, asId.toString()), 401, 'invalid_client');
      const asSecret = new URLSearchParams({ grant_type: 'client_credentials', token, client_id: client.client_id, client_secret: value });
      expectOAuthError(await post(path, asSecret.toString()), 401, 'invalid_client');
    }
    // Through Basic, NUL is not a VSCHAR (RFC 6749 Appendix A): the header is malformed.
    expectOAuthError(await post(path, `${grant}&token=${token}`, { authorization: basic('a\u0000b', 'c\u0000d') }), 400, 'invalid_request');
  });

  it('leaves the clients table intact after the injection attempts', async () => {
    expect(await tollgate.db.prisma.client.count()).toBe(clientsBefore);
    expect((await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret)).status).toBe(200);
  });
});

describe('hostile parameter values', () => {
  it('refuses SQL metacharacters and NUL bytes in scope with invalid_scope', async () => {
    for (const scope of ["' OR 1=1 --", '"; DROP TABLE clients; --', 'read\u0000', `read ${'x'.repeat(5000)}`]) {
      const form = new URLSearchParams({ grant_type: 'client_credentials', scope });
      expectOAuthError(await post('/token', form.toString(), auth()), 400, 'invalid_scope');
    }
  });

  it('refuses NUL in an authorization request’s parameters without a 500, and token requests alongside still get their tokens', async () => {
    const app = await registerAppClient(tollgate.url);
    const valid = {
      client_id: app.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      scope: 'read',
      state: 's',
    };
    for (const parameter of ['state', 'login_hint', 'display']) {
      const query = new URLSearchParams({ ...valid, [parameter]: 'a\u0000b' });
      const [authorization, ...tokens] = await Promise.all([
        fetch(`${tollgate.url}/auth?${query}`, { redirect: 'manual', signal: AbortSignal.timeout(10_000) }),
        ...[1, 2, 3].map(() => clientCredentialsToken(tollgate.url, client.client_id, client.client_secret)),
      ]);
      expect(authorization.status, `${parameter}: ${await authorization.text()}`).toBeLessThan(500);
      expect(tokens.map(({ status }) => status)).toEqual([200, 200, 200]);
    }
  });

  it('answers hostile or very long token values as unknown tokens (RFC 7662 §2.2, RFC 7009 §2.2)', async () => {
    for (const value of ["' OR 1=1 --", '"; DROP TABLE clients; --', 'a\u0000b', `${token}\u0000`, 'x'.repeat(15 * 1024), '%%%', '😀']) {
      const form = new URLSearchParams({ token: value }).toString();
      const introspected = await post('/introspect', form, auth());
      expect(introspected.status).toBe(200);
      expect(introspected.headers.get('cache-control')).toBe('no-store');
      expect(JSON.parse(introspected.text)).toEqual({ active: false });
      expect((await post('/revoke', form, auth())).status).toBe(200);
    }
    // The real token was never touched by any of that.
    expect(JSON.parse((await post('/introspect', `token=${token}`, auth())).text)).toMatchObject({ active: true });
  });
});

describe('admin API input', () => {
  it.each(['0000-01-01T00:00:00Z', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-14:00'])(
    'answers GET /admin/audit?since=%s without a 500',
    async (since) => {
      const reply = await send(`/admin/audit?${new URLSearchParams({ since })}`, {
        method: 'GET',
        headers: { authorization: `Bearer ${await adminToken(tollgate.url)}` },
      });
      expect(reply.status, reply.text).toBeLessThan(500);
      if (reply.status >= 400) expectOAuthError(reply, 400, 'invalid_request');
    },
  );
});

describe('methods and paths', () => {
  it.each(ENDPOINTS)('%s answers other methods with 405 JSON and Allow: POST', async (path) => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH']) {
      const reply = await send(`${path}?grant_type=client_credentials`, { method, headers: auth() });
      expectOAuthError({ ...reply, path }, 405, 'invalid_request');
      expect(reply.headers.get('allow')).toBe('POST, OPTIONS');
    }
  });

  it('still answers CORS preflights on the token endpoint', async () => {
    const reply = await send('/token', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(reply.status).toBe(204);
    expect(reply.headers.get('access-control-allow-methods')).toBe('POST');
  });

  it.each(['/nope', '/token/', '/token/x', '/TOKEN', '/admin-ish', '/.well-known/nope', '/%00', '/..%2f..%2fetc%2fpasswd'])('%s is 404 JSON', async (path) => {
    for (const method of ['GET', 'POST', 'HEAD']) {
      expectOAuthError(await send(path, { method }), 404, 'not_found');
    }
  });

  // /auth and /interaction/… are served since the sign-in pages (test/integration/sign-in.test.ts).
  it.each([
    '/reg',
    '/session/end',
    '/me',
    '/device/auth',
    '/device',
    '/request',
    '/backchannel',
    '/challenge',
    '/credential',
    '/session/end/confirm',
    '/.well-known/webfinger',
  ])('the provider route %s is not reachable', async (path) => {
    for (const method of ['GET', 'POST']) {
      expectOAuthError(await send(path, { method, body: method === 'POST' ? 'a=b' : undefined, headers: { 'content-type': FORM } }), 404, 'not_found');
    }
  });
});

const raw = (request: string) => rawRequest(tollgate.url, request);

describe('methods and requests Node refuses to parse', () => {
  const PATHS = [
    '/healthz',
    '/readyz',
    '/jwks',
    '/.well-known/openid-configuration',
    '/.well-known/oauth-authorization-server',
    '/token',
    '/admin/clients',
    '/nope',
  ];
  it.each(['TRACE', 'PROPFIND', 'MKCOL', 'LOCK', 'SEARCH', 'PURGE'])('%s gets 405 JSON with Allow on every path', async (method) => {
    for (const path of PATHS) {
      const reply = await raw(`${method} ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(reply.status, `${method} ${path}`).toBe(405);
      expect(reply.headers).toMatch(/\r\nallow: [A-Z, ]+/i);
      expect(JSON.parse(reply.body).error).toBe('invalid_request');
    }
  });

  it.each(['127.0.0.1:1', '/token'])('CONNECT %s gets 405 JSON with Allow, not a closed connection', async (target) => {
    const reply = await raw(`CONNECT ${target} HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n`);
    expect(reply.status).toBe(405);
    expect(reply.headers).toMatch(/\r\nallow: [A-Z, ]+/i);
    expect(JSON.parse(reply.body).error).toBe('invalid_request');
  });

  it('answers read-only paths’ other methods with 405 and what they allow', async () => {
    const reply = await send('/healthz', { method: 'POST', body: 'x' });
    expectOAuthError(reply, 405, 'invalid_request');
    expect(reply.headers.get('allow')).toBe('GET, HEAD');
  });

  it.each([
    ['a bad Content-Length', 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400],
    ['two Content-Lengths', 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
    ['oversized headers', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['a malformed request line', 'GET\r\n\r\n', 400],
    ['a method with bad characters', 'G@T / HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ])('%s gets JSON from the parser’s error', async (_name, request, status) => {
    const reply = await raw(request);
    expect(reply.status).toBe(status);
    expect(reply.headers).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(reply.body)).toMatchObject({ error: 'invalid_request' });
  });
});

describe('the server afterwards', () => {
  it('answered none of this file’s requests with a 5xx and logged no error', () => {
    const requests = tollgate.logs.filter((line) => line.msg === 'request');
    expect(requests.length).toBeGreaterThan(100);
    expect(requests.filter((line) => (line.status as number) >= 500)).toEqual([]);
    expect(tollgate.logs.filter((line) => (line.level as number) >= 50)).toEqual([]);
  });
});
