// The gateway check over HTTP, as gateways call it: served on GATEWAY_PORT only, GATEWAY_KEY,
// the header conventions of nginx, Caddy/Traefik and Envoy, and its answers.
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { advanceClock } from '../helpers/clock.js';
import { DpopKey } from '../helpers/dpop.js';
import { auditEvents } from '../helpers/ops.js';
import { admin, basic, clientCredentialsToken, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
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

/** A client with DPoP-bound tokens, its key, a token for `form` and the token's hash (a proof's ath). */
async function dpopBoundToken(form: Record<string, string>) {
  const key = new DpopKey();
  const client = await registerClient(tollgate.url, { scope: form.scope, dpop_bound_access_tokens: true });
  const issued = await fetch(`${tollgate.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(client.client_id, client.client_secret),
      dpop: key.proof(`${tollgate.url}/token`),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...form }).toString(),
  });
  const bound = ((await issued.json()) as { access_token: string }).access_token;
  return { key, client, bound, ath: createHash('sha256').update(bound).digest('base64url') };
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

describe('decisions with route rules', () => {
  const API = 'https://api.example.com/items-api';
  let token: string;
  let serverId: string;
  let clientId: string;

  beforeAll(async () => {
    const created = await admin(tollgate.url, 'POST', '/resource-servers', {
      identifier: API,
      name: 'API',
      scopes: ['read', 'write'],
      public_base_url: 'https://api.example.com',
    });
    serverId = created.body.id as string;
    const rules = [
      { host: 'api.example.com', path: '/items/**', methods: ['GET', 'HEAD'], scopes_any: ['read', 'write'] },
      { host: 'api.example.com', path: '/items/**', scopes_all: ['write'] },
      { path: '/status', public: true },
    ];
    expect((await admin(tollgate.url, 'PUT', `/resource-servers/${serverId}/routes`, { routes: rules })).status).toBe(200);
    const client = await registerClient(tollgate.url, { scope: 'read' });
    clientId = client.client_id;
    token = (
      await postForm(tollgate.url, '/token', { grant_type: 'client_credentials', scope: 'read', resource: API }, [client.client_id, client.client_secret])
    ).body.access_token as string;
  });
  afterEach(() => vi.useRealTimers());

  const expectPass = (response: Awaited<ReturnType<typeof check>>) => {
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.headers.get('x-auth-scope')).toBe('read');
    expect(response.headers.get('x-auth-audience')).toBe(API);
  };

  it("decides from nginx's, Caddy's/Traefik's and Envoy's headers alike", async () => {
    const authorization = `Bearer ${token}`;
    expectPass(await check({ authorization, 'x-original-method': 'GET', 'x-original-uri': '/items/1?x=1', 'x-forwarded-host': 'api.example.com' }));
    expectPass(
      await check({
        authorization,
        'x-forwarded-method': 'GET',
        'x-forwarded-uri': '/items/1',
        'x-forwarded-host': 'API.example.com:8443',
        'x-forwarded-proto': 'https',
      }),
    );
    expectPass(await check({ authorization, 'x-forwarded-host': 'api.example.com' }, '/gateway/check/items/1', 'GET'));
    // The same request with a method the read rule does not cover needs write.
    const write = await check({ authorization, 'x-forwarded-host': 'api.example.com' }, '/gateway/check/items/1', 'DELETE');
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", error_description="the access token lacks the scope this route needs", scope="write"',
    );
    expect(write.body).toMatchObject({ error: 'insufficient_scope', scope: 'write' });
  });

  it("lets nginx's X-Original-* win when both conventions arrive", async () => {
    const authorization = `Bearer ${token}`;
    const host = { 'x-forwarded-host': 'api.example.com' };
    expectPass(
      await check({
        authorization,
        ...host,
        'x-original-uri': '/items/1',
        'x-forwarded-uri': '/elsewhere',
        'x-original-method': 'GET',
        'x-forwarded-method': 'DELETE',
      }),
    );
    expect((await check({ authorization, ...host, 'x-original-uri': '/elsewhere', 'x-forwarded-uri': '/items/1' })).status).toBe(403);
  });

  it('refuses another host and a path outside the rules (403), and a path that could be read two ways (400)', async () => {
    const authorization = `Bearer ${token}`;
    expect((await check({ authorization, 'x-original-uri': '/items/1', 'x-forwarded-host': 'other.example.com' })).status).toBe(403);
    expect((await check({ authorization, 'x-original-uri': '/itemsx', 'x-forwarded-host': 'api.example.com' })).status).toBe(403);
    for (const uri of ['/items/../admin', '/items/%2e%2e/admin', '/items/a%2Fb']) {
      expect((await check({ authorization, 'x-original-uri': uri, 'x-forwarded-host': 'api.example.com' })).status, uri).toBe(400);
    }
  });

  it('passes a public route without a token, with the X-Auth-* headers empty', async () => {
    const response = await check({ 'x-original-uri': '/status' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-auth-subject')).toBe('');
  });

  it("checks a DPoP proof's htu against the resource server's public_base_url", async () => {
    const { key, client, bound, ath } = await dpopBoundToken({ scope: 'read', resource: API });
    // The gateway forwards http://10.0.0.5:8080; clients reach https://api.example.com.
    const forwarded = { authorization: `DPoP ${bound}`, 'x-original-uri': '/items/1', 'x-forwarded-host': 'api.example.com', 'x-forwarded-proto': 'http' };
    expect((await check({ ...forwarded, dpop: key.proof('http://api.example.com/items/1', { ath }, 'GET') })).status).toBe(401);
    expect((await check({ ...forwarded, dpop: key.proof('https://api.example.com/items/1', { ath }, 'POST') })).status).toBe(401);
    const passed = await check({ ...forwarded, dpop: key.proof('https://api.example.com/items/1', { ath }, 'GET') });
    expect(passed.status, JSON.stringify(passed.body)).toBe(200);
    expect(passed.headers.get('x-auth-client-id')).toBe(client.client_id);
    const missing = await check(forwarded);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^DPoP algs="ES256 Ed25519 EdDSA", error="invalid_token"/);
  });

  it('counts the checks it lets through in the audit trail: one row per token client, audience and minute', async () => {
    const request = { authorization: `Bearer ${token}`, 'x-original-uri': '/items/1', 'x-forwarded-host': 'api.example.com' };
    // One second into a minute of a stopped clock: the checks share it (the earlier tests' are in earlier minutes).
    advanceClock(60_000 - (Date.now() % 60_000) + 1000);
    const first = Date.now();
    for (let i = 0; i < 3; i += 1) expectPass(await check(request));
    expect((await check({ ...request, 'x-original-method': 'DELETE' })).status).toBe(403);
    advanceClock(60_000);
    const { events } = await auditEvents(tollgate.url, { type: 'token.gateway_checked', client_id: clientId, since: new Date(first).toISOString() });
    expect(events).toEqual([
      expect.objectContaining({
        count: 3,
        outcome: 'success',
        subject: null,
        first_at: new Date(first).toISOString(),
        details: expect.objectContaining({ audience: [API] }),
      }),
    ]);
  });

  it('follows a rule change at once', async () => {
    const authorization = `Bearer ${token}`;
    const request = { authorization, 'x-original-uri': '/items/1', 'x-forwarded-host': 'api.example.com' };
    expectPass(await check(request));
    expect((await admin(tollgate.url, 'PUT', `/resource-servers/${serverId}/routes`, { routes: [] })).status).toBe(200);
    expect((await check(request)).status).toBe(403);
  });
});

describe('targets the API could read as another path', () => {
  const API = 'https://tricks.example';
  const host = { 'x-forwarded-host': 'tricks.example' };
  let serverId: string;
  let reader: RegisteredClient;

  beforeAll(async () => {
    const created = await admin(tollgate.url, 'POST', '/resource-servers', { identifier: API, name: 'Tricks', scopes: ['a:read', 'admin'] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.case_sensitive_paths).toBe(false);
    serverId = created.body.id as string;
    const rules = [
      { host: 'tricks.example', path: '/public/**', public: true },
      { host: 'tricks.example', path: '/a/admin/**', scopes_all: ['admin'] },
      { host: 'tricks.example', path: '/a/**', scopes_all: ['a:read'] },
      { host: 'tricks.example', path: '/**', scopes_all: ['a:read'] },
    ];
    expect((await admin(tollgate.url, 'PUT', `/resource-servers/${serverId}/routes`, { routes: rules })).status).toBe(200);
    reader = await registerClient(tollgate.url, { scope: 'a:read', dpop_bound_access_tokens: false });
  });

  const readToken = async () => {
    const issued = await postForm(tollgate.url, '/token', { grant_type: 'client_credentials', scope: 'a:read', resource: API }, [
      reader.client_id,
      reader.client_secret,
    ]);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    return issued.body.access_token as string;
  };

  it('refuses each trick with 400 invalid_request, with a token or without, whichever header carries it', async () => {
    const authorization = `Bearer ${await readToken()}`;
    const tricks = [
      '/public/..;/a/admin/x',
      '/public;x=1/../a/admin/x',
      '/a//admin/x',
      '/public/x#/../../a/admin/x',
      '/a/admin./x',
      '/a/admin%2e/x',
      '/public/%2e%2e/a/admin/x',
      '/public%2f..%2fa/admin/x',
      '/public/..%5ca/admin/x',
      '/public\\..\\a/admin/x',
      '//evil.example/a/admin/x',
      'http://evil.example/a/admin/x',
      '/a/adm%C4%B0n/x',
      '/p%75blic/a/admin/x',
      '/public%3Ax/a/admin/x',
      '/PUBLIC/x',
    ];
    for (const uri of tricks) {
      for (const headers of [{ 'x-original-uri': uri }, { 'x-forwarded-uri': uri }, { authorization, 'x-original-uri': uri }] as Record<string, string>[]) {
        const response = await check({ ...host, ...headers });
        expect(response.status, `${uri} ${JSON.stringify(response.body)}`).toBe(400);
        expect(response.body.error).toBe('invalid_request');
      }
    }
    // Envoy's convention: the target after the check's own path.
    expect((await check(host, '/gateway/check/a/admin./x')).status).toBe(400);
    // A plain path still passes, and the admin path still needs admin.
    expect((await check({ ...host, 'x-original-uri': '/public/x' })).status).toBe(200);
    expect((await check({ ...host, authorization, 'x-original-uri': '/a/admin/x' })).status).toBe(403);
  });

  it('refuses a path whose case changes which rule decides, unless the resource server says its API tells cases apart', async () => {
    const authorization = `Bearer ${await readToken()}`;
    // A case-insensitive API reads them as /a/admin/x (the admin rule), a case-sensitive one as
    // another path (the /a/** rule): Tollgate cannot know which, so it decides neither way.
    for (const uri of ['/a/ADMIN/x', '/A/Admin/x', '/a/aDmIn']) {
      const response = await check({ ...host, authorization, 'x-original-uri': uri });
      expect(response.status, uri).toBe(400);
      expect(response.body.error_description).toMatch(/case/);
    }
    // Where the case changes no rule, it does not matter.
    expect((await check({ ...host, authorization, 'x-original-uri': '/a/X' })).status).toBe(200);
    const sensitive = await admin(tollgate.url, 'PATCH', `/resource-servers/${serverId}`, { case_sensitive_paths: true });
    expect(sensitive.status, JSON.stringify(sensitive.body)).toBe(200);
    expect(sensitive.body.case_sensitive_paths).toBe(true);
    try {
      // Its API reads /a/ADMIN/x as another path than /a/admin/x: the /a/** rule decides.
      expect((await check({ ...host, authorization, 'x-original-uri': '/a/ADMIN/x' })).status).toBe(200);
      expect((await check({ ...host, authorization, 'x-original-uri': '/a/admin/x' })).status).toBe(403);
      expect((await check({ ...host, 'x-original-uri': '/PUBLIC/x' })).status).toBe(401);
    } finally {
      expect((await admin(tollgate.url, 'PATCH', `/resource-servers/${serverId}`, { case_sensitive_paths: false })).status).toBe(200);
    }
  });

  it('says the original request is unknown when no header names it, whatever query the check carries', async () => {
    for (const path of ['/gateway/check', '/gateway/check?x', '/gateway/check?/a/x']) {
      const response = await check(host, path);
      expect(response.status, path).toBe(400);
      expect(response.body.error_description, path).toMatch(/original request is unknown: send X-Original-URI/);
    }
  });

  it('refuses rules no request could meet, naming the rule', async () => {
    for (const path of ['/files/%41', '/a;b', '/a//b', '/x.', '/a%2Fb']) {
      const response = await admin(tollgate.url, 'PUT', `/resource-servers/${serverId}/routes`, { routes: [{ path: '/ok' }, { path }] });
      expect(response.status, path).toBe(400);
      expect(JSON.stringify(response.body), path).toMatch(/routes.*1.*path.*never matched/);
    }
  });

  it("never takes a DPoP proof's htu host from the original path", async () => {
    const { key, bound, ath } = await dpopBoundToken({ scope: 'a:read', resource: API });
    const request = { ...host, authorization: `DPoP ${bound}` };
    const steered = await check({ ...request, 'x-original-uri': '//evil.example/steal', dpop: key.proof('http://evil.example/steal', { ath }, 'GET') });
    expect(steered.status, JSON.stringify(steered.body)).toBe(400);
    const passed = await check({ ...request, 'x-original-uri': '/steal', dpop: key.proof('http://tricks.example/steal', { ath }, 'GET') });
    expect(passed.status, JSON.stringify(passed.body)).toBe(200);
  });
});

describe('JWT access tokens (RFC 9068), decided as opaque ones', () => {
  const JWT_API = 'https://jwt-api.example';
  const BOUND_API = 'https://bound-api.example';
  let client: RegisteredClient;
  const host = { 'x-forwarded-host': 'jwt-api.example' };

  beforeAll(async () => {
    for (const [identifier, extra] of [
      [JWT_API, {}],
      [BOUND_API, { dpop_required: true }],
    ] as const) {
      const name = new URL(identifier).hostname;
      const created = await admin(tollgate.url, 'POST', '/resource-servers', {
        identifier,
        name,
        scopes: ['jwt:read', 'jwt:write'],
        access_token_format: 'jwt',
        public_base_url: identifier,
        ...extra,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const rules = [
        { host: name, path: '/items/**', methods: ['GET'], scopes_any: ['jwt:read'] },
        { host: name, path: '/items/**', scopes_all: ['jwt:write'] },
      ];
      expect((await admin(tollgate.url, 'PUT', `/resource-servers/${created.body.id as string}/routes`, { routes: rules })).status).toBe(200);
    }
    client = await registerClient(tollgate.url, { scope: 'jwt:read jwt:write', dpop_bound_access_tokens: false });
  });

  const jwtFor = async (resource: string, scope: string, headers: Record<string, string> = {}) => {
    const issued = await fetch(`${tollgate.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, client.client_secret), ...headers },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope }).toString(),
    });
    const body = (await issued.json()) as { access_token: string };
    expect(issued.status, JSON.stringify(body)).toBe(200);
    expect(body.access_token.split('.')).toHaveLength(3);
    return body.access_token;
  };

  it('passes a valid JWT with the X-Auth-* headers, and refuses it where a rule needs another scope', async () => {
    const jwt = await jwtFor(JWT_API, 'jwt:read');
    for (let attempt = 0; attempt < 2; attempt++) {
      // Twice: the second answer comes from memory.
      const passed = await check({ authorization: `Bearer ${jwt}`, 'x-original-uri': '/items/1', ...host });
      expect(passed.status, JSON.stringify(passed.body)).toBe(200);
      expect(passed.headers.get('x-auth-client-id')).toBe(client.client_id);
      expect(passed.headers.get('x-auth-subject')).toBe(client.client_id);
      expect(passed.headers.get('x-auth-scope')).toBe('jwt:read');
      expect(passed.headers.get('x-auth-audience')).toBe(JWT_API);
    }
    const write = await check({ authorization: `Bearer ${jwt}`, 'x-original-uri': '/items/1', 'x-original-method': 'DELETE', ...host });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ error: 'insufficient_scope', scope: 'jwt:write' });
  });

  it('refuses a JWT revoked after it was remembered, a tampered one, and its bare jti', async () => {
    const jwt = await jwtFor(JWT_API, 'jwt:read');
    const request = { 'x-original-uri': '/items/1', ...host };
    expect((await check({ ...request, authorization: `Bearer ${jwt}` })).status).toBe(200);
    const [header, payload, signature] = jwt.split('.') as [string, string, string];
    const { jti } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { jti: string };
    // The jti names the stored token, but is no token: it is in every copy of the JWT's payload.
    expect((await check({ ...request, authorization: `Bearer ${jti}` })).status).toBe(401);
    // Introspection does not take the remembered entry for the bare jti either, and sees the JWT.
    const introspect = async (token: string) => (await postForm(tollgate.url, '/introspect', { token }, [client.client_id, client.client_secret])).body.active;
    expect(await introspect(jti)).toBe(false);
    expect(await introspect(jwt)).toBe(true);
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scope: 'jwt:read jwt:write' })).toString('base64url')}.${signature}`;
    expect((await check({ ...request, authorization: `Bearer ${tampered}` })).status).toBe(401);

    expect((await postForm(tollgate.url, '/revoke', { token: jwt }, [client.client_id, client.client_secret])).status).toBe(200);
    const revoked = await check({ ...request, authorization: `Bearer ${jwt}` });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(await introspect(jwt)).toBe(false);
  });

  it('refuses a DPoP-bound JWT sent as Bearer, and passes it with a proof for the request', async () => {
    const key = new DpopKey();
    const jwt = await jwtFor(BOUND_API, 'jwt:read', { dpop: key.proof(`${tollgate.url}/token`) });
    const request = { 'x-original-uri': '/items/1', 'x-forwarded-host': 'bound-api.example' };
    const bearer = await check({ ...request, authorization: `Bearer ${jwt}` });
    expect(bearer.status).toBe(401);
    expect(bearer.headers.get('www-authenticate')).toMatch(/^DPoP algs="ES256 Ed25519 EdDSA", error="invalid_token"/);
    const ath = createHash('sha256').update(jwt).digest('base64url');
    const passed = await check({ ...request, authorization: `DPoP ${jwt}`, dpop: key.proof(`${BOUND_API}/items/1`, { ath }, 'GET') });
    expect(passed.status, JSON.stringify(passed.body)).toBe(200);
    expect(passed.headers.get('x-auth-audience')).toBe(BOUND_API);
    expect((await check({ ...request, authorization: `DPoP ${jwt}`, dpop: new DpopKey().proof(`${BOUND_API}/items/1`, { ath }, 'GET') })).status).toBe(401);
  });
});

describe('DPoP proof freshness', () => {
  const API = 'https://fresh-api.example';
  const request = { 'x-original-uri': '/items/1', 'x-forwarded-host': 'fresh-api.example' };
  let client: RegisteredClient;

  beforeAll(async () => {
    // Tokens outlive the clock moves below, so that only the proof decides.
    const created = await admin(tollgate.url, 'POST', '/resource-servers', {
      identifier: API,
      name: 'fresh-api.example',
      scopes: ['fresh:read'],
      public_base_url: API,
      access_token_ttl: 3600,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const rules = [{ host: 'fresh-api.example', path: '/items/**', scopes_any: ['fresh:read'] }];
    expect((await admin(tollgate.url, 'PUT', `/resource-servers/${created.body.id as string}/routes`, { routes: rules })).status).toBe(200);
    client = await registerClient(tollgate.url, { scope: 'fresh:read', dpop_bound_access_tokens: true });
  });
  afterEach(() => vi.useRealTimers());

  /** A token bound to `key`, and a proof maker for the checked request carrying its hash. */
  async function boundToken(key: DpopKey) {
    const issued = await fetch(`${tollgate.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(client.client_id, client.client_secret),
        dpop: key.proof(`${tollgate.url}/token`),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: API, scope: 'fresh:read' }).toString(),
    });
    const token = ((await issued.json()) as { access_token: string }).access_token;
    const ath = createHash('sha256').update(token).digest('base64url');
    return { authorization: `DPoP ${token}`, proof: (iat: number) => key.proof(`${API}/items/1`, { ath, iat }, 'GET') };
  }

  it('refuses a proof stamped further ahead of the clock than 5 s', async () => {
    const { authorization, proof } = await boundToken(new DpopKey());
    const now = Math.floor(Date.now() / 1000);
    const ahead = await check({ ...request, authorization, dpop: proof(now + 299) });
    expect(ahead.status).toBe(401);
    expect(ahead.headers.get('www-authenticate')).toMatch(/error="invalid_token", error_description="the DPoP proof is issued in the future/);
    expect((await check({ ...request, authorization, dpop: proof(now + 5) })).status).toBe(200);
  });

  it('remembers a proof until it is stale, also one stamped ahead of the clock', async () => {
    const { authorization, proof } = await boundToken(new DpopKey());
    const now = Math.floor(Date.now() / 1000);
    const ahead = proof(now + 5);
    const current = proof(now);
    expect((await check({ ...request, authorization, dpop: ahead })).status).toBe(200);
    expect((await check({ ...request, authorization, dpop: current })).status).toBe(200);
    // 303 s on, the proof stamped 5 s ahead is still recent: its use must still be remembered.
    advanceClock(303_000);
    const replayed = await check({ ...request, authorization, dpop: ahead });
    expect(replayed.status).toBe(401);
    expect(replayed.headers.get('www-authenticate')).toMatch(/used before/);
    for (const moved of [7_000, 289_000]) {
      advanceClock(moved);
      for (const dpop of [ahead, current]) expect((await check({ ...request, authorization, dpop })).status).toBe(401);
    }
  });
});

describe('off by default', () => {
  it('serves no gateway check without GATEWAY_PORT', async () => {
    const plain = await startTollgate();
    try {
      expect(plain.running.gatewayUrl).toBeUndefined();
      expect((await fetch(`${plain.url}/gateway/check`, { headers: { 'x-original-uri': '/' } })).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('its own budget per address', () => {
  it("refuses a gateway past RATE_LIMIT_GATEWAY_PER_IP with 429, and leaves the token endpoints' budgets alone", async () => {
    const limited = await startTollgate({ GATEWAY_PORT: '0', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_GATEWAY_PER_IP: '3', RATE_LIMIT_TOKEN_PER_IP: '3' });
    try {
      const client = await registerClient(limited.url, { scope: 'read' });
      const token = (await clientCredentialsToken(limited.url, client.client_id, client.client_secret, 'read')).body.access_token as string;
      const ask = () => fetch(`${limited.running.gatewayUrl!}/gateway/check`, { headers: { authorization: `Bearer ${token}`, 'x-original-uri': '/x' } });
      for (let i = 0; i < 3; i += 1) expect((await ask()).status).toBe(403);
      const refused = await ask();
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      // The checks spent nothing of the token endpoint's budget: 3 per address, 2 used above (the admin token, the client's).
      expect((await clientCredentialsToken(limited.url, client.client_id, client.client_secret, 'read')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
