// Real gateways in front of an API, asking Tollgate's gateway check about every request: nginx
// (auth_request) and Caddy (forward_auth), run from the configurations docs/gateway.md shows.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DpopKey } from '../helpers/dpop.js';
import { gatewayProgram, NGINX_SERVER_NAME, startGateway, startUpstream, type GatewayKind, type RunningGateway } from '../helpers/gateways.js';
import { admin, basic, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { rawRequest as rawHttp } from '../helpers/raw-http.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

const KEY = 'gateway-key-0123456789abcdefghijklmnopqrstuvwxyz';
const ROUTES = [
  { path: '/public/**', public: true },
  { path: '/api/admin/**', scopes_all: ['admin'] },
  { path: '/api/**', methods: ['GET', 'HEAD'], scopes_all: ['read'] },
  { path: '/api/**', scopes_all: ['write'] },
];

/** The API the gateways guard, and a resource server whose access tokens are JWTs (RFC 9068). */
const ITEMS_API = 'https://items.example/api';
const JWT_API = 'https://jwt-api.example';
/** Virtual hosts on one nginx port: b.example's /b/** is public, c.example's is not. */
const VHOSTS = ['b.example', 'c.example'];

let tollgate: TestTollgate;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let reader: RegisteredClient;
let bound: RegisteredClient;
const dpopKey = new DpopKey();

beforeAll(async () => {
  tollgate = await startTollgate({ GATEWAY_PORT: '0', GATEWAY_KEY: KEY });
  upstream = await startUpstream();
  const server = await admin(tollgate.url, 'POST', '/resource-servers', { identifier: ITEMS_API, name: 'Items API', scopes: ['read', 'write', 'other'] });
  expect(server.status, JSON.stringify(server.body)).toBe(201);
  const routes = await admin(tollgate.url, 'PUT', `/resource-servers/${server.body.id as string}/routes`, { routes: ROUTES });
  expect(routes.status, JSON.stringify(routes.body)).toBe(200);
  const jwtServer = await admin(tollgate.url, 'POST', '/resource-servers', {
    identifier: JWT_API,
    name: 'JWT API',
    scopes: ['read'],
    access_token_format: 'jwt',
  });
  expect(jwtServer.status, JSON.stringify(jwtServer.body)).toBe(201);
  expect(
    (await admin(tollgate.url, 'PUT', `/resource-servers/${jwtServer.body.id as string}/routes`, { routes: [{ path: '/jwt/**', scopes_all: ['read'] }] }))
      .status,
  ).toBe(200);
  const vhosts = await admin(tollgate.url, 'POST', '/resource-servers', { identifier: 'https://vhosts.example', name: 'Virtual hosts' });
  expect(
    (await admin(tollgate.url, 'PUT', `/resource-servers/${vhosts.body.id as string}/routes`, { routes: [{ host: 'b.example', path: '/b/**', public: true }] }))
      .status,
  ).toBe(200);
  reader = await registerClient(tollgate.url, { scope: 'read other' });
  bound = await registerClient(tollgate.url, { scope: 'read', dpop_bound_access_tokens: true });
});
afterAll(async () => {
  await upstream?.close();
  await tollgate?.close();
});

async function tokenFor(client: RegisteredClient, scope: string): Promise<string> {
  const { status, body } = await postForm(tollgate.url, '/token', { grant_type: 'client_credentials', scope, resource: ITEMS_API }, [
    client.client_id,
    client.client_secret,
  ]);
  expect(status, JSON.stringify(body)).toBe(200);
  return body.access_token as string;
}

async function boundToken(): Promise<string> {
  const response = await fetch(`${tollgate.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(bound.client_id, bound.client_secret),
      dpop: dpopKey.proof(`${tollgate.url}/token`),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read', resource: ITEMS_API }).toString(),
  });
  const body = (await response.json()) as Record<string, unknown>;
  expect(response.status, JSON.stringify(body)).toBe(200);
  expect(body.token_type).toBe('DPoP');
  return body.access_token as string;
}

/**
 * A request sent as written, for targets fetch would normalise (`..`, `#`, `\`) and absolute-form
 * ones: its status and, from the echoing upstream, what the upstream received.
 */
async function rawRequest(url: string, target: string, headers: Record<string, string> = {}) {
  const head = Object.entries({ host: new URL(url).host, ...headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const reply = await rawHttp(url, `GET ${target} HTTP/1.1\r\n${head}\r\n`);
  const upstream =
    reply.status === 200 && reply.body.startsWith('{') ? (JSON.parse(reply.body) as { url: string; headers: Record<string, string> }) : undefined;
  return { status: reply.status, upstream };
}

const ath = (token: string) => createHash('sha256').update(token).digest('base64url');

for (const kind of ['nginx', 'caddy'] as const satisfies readonly GatewayKind[]) {
  const program = gatewayProgram(kind);
  describe.skipIf(!program)(`through ${kind}`, () => {
    let gateway: RunningGateway;
    /** Where clients reach the API: nginx checks requests as for its server block's name. */
    let origin: string;

    beforeAll(async () => {
      gateway = await startGateway(kind, program!, { gateway: new URL(tollgate.running.gatewayUrl!).host, upstream: upstream.address, key: KEY });
      origin = kind === 'nginx' ? gateway.url.replace('127.0.0.1', NGINX_SERVER_NAME) : gateway.url;
    });
    afterAll(() => gateway?.close());

    const call = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
      const response = await fetch(`${gateway.url}${path}`, { method, headers });
      const text = await response.text();
      return {
        status: response.status,
        challenge: response.headers.get('www-authenticate'),
        upstream: response.status === 200 ? (JSON.parse(text) as { headers: Record<string, string> }) : undefined,
      };
    };

    it('refuses a request without a token (401, with the challenge)', async () => {
      const response = await call('/api/items');
      expect(response.status).toBe(401);
      expect(response.challenge).toContain('Bearer');
    });

    it('passes a public route without a token, and never the client’s own X-Auth-* headers', async () => {
      const response = await call('/public/status', { 'x-auth-subject': 'mallory', 'x-auth-scope': 'admin' });
      expect(response.status).toBe(200);
      expect(response.upstream!.headers['x-auth-subject'] ?? '').toBe('');
      expect(response.upstream!.headers['x-auth-scope'] ?? '').toBe('');
    });

    it('passes a token with the scope the route needs, telling the API who sent it', async () => {
      const token = await tokenFor(reader, 'read');
      const response = await call('/api/items/7?page=2', { authorization: `Bearer ${token}`, 'x-auth-subject': 'mallory' });
      expect(response.status).toBe(200);
      expect(response.upstream!.headers).toMatchObject({
        'x-auth-subject': reader.client_id,
        'x-auth-client-id': reader.client_id,
        'x-auth-scope': 'read',
        'x-auth-audience': ITEMS_API,
      });
    });

    it('refuses a token without the scope (403 insufficient_scope), and another method of the same path needs another scope', async () => {
      const other = await call('/api/items', { authorization: `Bearer ${await tokenFor(reader, 'other')}` });
      expect(other.status).toBe(403);
      expect(other.challenge).toMatch(/error="insufficient_scope".*scope="read"/);
      const write = await call('/api/items', { authorization: `Bearer ${await tokenFor(reader, 'read')}` }, 'DELETE');
      expect(write.status).toBe(403);
      expect(write.challenge).toContain('scope="write"');
    });

    it('refuses a revoked token at once', async () => {
      const token = await tokenFor(reader, 'read');
      expect((await call('/api/items', { authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await postForm(tollgate.url, '/revoke', { token }, [reader.client_id, reader.client_secret])).status).toBe(200);
      const response = await call('/api/items', { authorization: `Bearer ${token}` });
      expect(response.status).toBe(401);
      expect(response.challenge).toContain('error="invalid_token"');
    });

    it('passes a JWT access token, and refuses it once revoked', async () => {
      const issued = await postForm(tollgate.url, '/token', { grant_type: 'client_credentials', scope: 'read', resource: JWT_API }, [
        reader.client_id,
        reader.client_secret,
      ]);
      const jwt = issued.body.access_token as string;
      expect(jwt.split('.'), JSON.stringify(issued.body)).toHaveLength(3);
      const passed = await call('/jwt/items', { authorization: `Bearer ${jwt}` });
      expect(passed.status).toBe(200);
      expect(passed.upstream!.headers).toMatchObject({ 'x-auth-client-id': reader.client_id, 'x-auth-scope': 'read', 'x-auth-audience': JWT_API });
      expect((await postForm(tollgate.url, '/revoke', { token: jwt }, [reader.client_id, reader.client_secret])).status).toBe(200);
      expect((await call('/jwt/items', { authorization: `Bearer ${jwt}` })).status).toBe(401);
    });

    it('refuses a DPoP-bound token sent as Bearer', async () => {
      const response = await call('/api/items', { authorization: `Bearer ${await boundToken()}` });
      expect(response.status).toBe(401);
      expect(response.challenge).toMatch(/^DPoP /);
    });

    it('passes a DPoP-bound token with a proof of the original request, once; a proof for another path fails', async () => {
      const token = await boundToken();
      const proof = dpopKey.proof(`${origin}/api/items`, { ath: ath(token) }, 'GET');
      const headers = { authorization: `DPoP ${token}`, dpop: proof };
      const passed = await call('/api/items?page=1', headers);
      expect(passed.status).toBe(200);
      expect(passed.upstream!.headers['x-auth-client-id']).toBe(bound.client_id);
      const replayed = await call('/api/items?page=1', headers);
      expect(replayed.status).toBe(401);
      expect(replayed.challenge).toContain('error="invalid_token"');
      const elsewhere = await call('/api/other', { authorization: `DPoP ${token}`, dpop: dpopKey.proof(`${origin}/api/items`, { ath: ath(token) }, 'GET') });
      expect(elsewhere.status).toBe(401);
    });

    it('refuses (400) each target the API could read as another path, which never reaches it', async () => {
      const authorization = `Bearer ${await tokenFor(reader, 'read')}`;
      const tricks: [string, Record<string, string>][] = [
        ['/public/..;/api/admin/x', {}],
        ['/public;x=1/../api/admin/x', {}],
        ['/public/x#/../../api/admin/x', {}],
        ['/public/%2e%2e/api/admin/x', {}],
        ['/public/..%2fapi/admin/x', {}],
        ['/public/..\\api/admin/x', {}],
        ['/api//admin/x', { authorization }],
        ['/api/admin./x', { authorization }],
        ['/api/admin%2e/x', { authorization }],
        ['/%70ublic/x', {}],
        // Case: /api/ADMIN/x meets the admin rule in lower case and the /api/** rule as sent.
        ['/api/ADMIN/x', { authorization }],
      ];
      for (const [target, headers] of tricks) expect((await rawRequest(gateway.url, target, headers)).status, target).toBe(400);
      // The API gets the target exactly as checked.
      const passed = await rawRequest(gateway.url, '/api/Items/%20x?q=%2F', { authorization });
      expect(passed.status).toBe(200);
      expect(passed.upstream!.url).toBe('/api/Items/%20x?q=%2F');
    });

    it('passes the API none of the client’s identity headers, in any spelling', async () => {
      const spoofed = { X_Auth_Subject: 'mallory', x_auth_scope: 'admin', 'X-Auth_Client-Id': 'mallory', X_AUTH_CLIENT_ID: 'mallory', 'X-AUTH-AUDIENCE': 'x' };
      const response = await rawRequest(gateway.url, '/public/status', spoofed);
      expect(response.status).toBe(200);
      const seen = Object.keys(response.upstream!.headers).filter((name) => /^x[-_]auth[-_]/i.test(name) && response.upstream!.headers[name] !== '');
      expect(seen).toEqual([]);
    });

    it('checks an absolute-form request for the host that serves it, not for its Host header', async () => {
      // The request line names c.example, whose /b/** needs a token; Host says b.example, whose /b/** is public.
      const sites =
        kind === 'nginx'
          ? await startGateway(kind, program!, {
              gateway: new URL(tollgate.running.gatewayUrl!).host,
              upstream: upstream.address,
              key: KEY,
              serverNames: VHOSTS,
            })
          : gateway;
      try {
        const port = new URL(sites.url).port;
        expect((await rawRequest(sites.url, `http://c.example:${port}/b/x`, { host: `b.example:${port}` })).status).toBe(401);
        const served = await rawRequest(sites.url, '/b/x', { host: `b.example:${port}` });
        expect(served.status).toBe(200);
        expect(served.upstream?.url).toBe('/b/x');
      } finally {
        if (sites !== gateway) await sites.close();
      }
    });
  });
}
