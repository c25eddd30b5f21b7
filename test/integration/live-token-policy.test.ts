// Tokens already issued follow the policy as it is now: narrowing a client's allow-list or a
// resource server's scopes narrows what its live tokens confer at introspection (the token
// endpoint's own handler and the provider alike) and at the gateway check at once, and a token
// for a resource server that is gone is inactive. Each answer is asked for twice, so that the
// second comes from the instance's memory (the token cache) when it has the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin as adminAs, adminToken, clientCredentialsToken, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

const KEY = 'gateway-key-0123456789abcdefghijklmnopqrstuvwxyz';
const OPAQUE_API = 'https://orders.example/api';
const JWT_API = 'https://ledger.example/api';

let tollgate: TestTollgate;
/** Introspects every token: it may see any. */
let introspector: RegisteredClient;
let adminHeld: string;

beforeAll(async () => {
  tollgate = await startTollgate({ GATEWAY_PORT: '0', GATEWAY_KEY: KEY });
  adminHeld = await adminToken(tollgate.url);
  introspector = await registerClient(tollgate.url, { resource_server: true });
});
afterAll(() => tollgate?.close());

/** The admin API, with one admin token for the file unless another is given. */
const admin = (base: string, method: string, path: string, body?: unknown, token = adminHeld) => adminAs(base, method, path, body, token);

async function createApi(identifier: string, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await admin(tollgate.url, 'POST', '/resource-servers', { identifier, name: 'API', scopes: ['read', 'write'], ...extra });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  const routes = [
    { path: '/read/**', scopes_all: ['read'] },
    { path: '/write/**', scopes_all: ['write'] },
  ];
  expect((await admin(tollgate.url, 'PUT', `/resource-servers/${id}/routes`, { routes })).status).toBe(200);
  return id;
}

async function tokenFor(client: RegisteredClient, resource?: string): Promise<string> {
  const issued = await postForm(tollgate.url, '/token', { grant_type: 'client_credentials', scope: 'read write', ...(resource ? { resource } : {}) }, [
    client.client_id,
    client.client_secret,
  ]);
  expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  expect(issued.body.scope).toBe('read write');
  return issued.body.access_token as string;
}

/** Two introspections in a row: the answers must be the same. */
async function introspect(token: string): Promise<Record<string, unknown>> {
  const first = await postForm(tollgate.url, '/introspect', { token }, [introspector.client_id, introspector.client_secret]);
  const second = await postForm(tollgate.url, '/introspect', { token }, [introspector.client_id, introspector.client_secret]);
  expect(second.body).toEqual(first.body);
  return first.body;
}

/** Two gateway checks in a row: the statuses must be the same. */
async function gateway(token: string, path: string): Promise<number> {
  const ask = async () =>
    (
      await fetch(`${tollgate.running.gatewayUrl!}/gateway/check`, {
        headers: { 'x-gateway-key': KEY, authorization: `Bearer ${token}`, 'x-original-uri': path },
      })
    ).status;
  const first = await ask();
  expect(await ask()).toBe(first);
  return first;
}

describe("a client's allow-list narrowed", () => {
  it('narrows its live opaque tokens at once', async () => {
    await createApi(OPAQUE_API);
    const client = await registerClient(tollgate.url, { scope: 'read write' });
    const token = await tokenFor(client, OPAQUE_API);
    expect(await introspect(token)).toMatchObject({ active: true, scope: 'read write' });
    expect(await gateway(token, '/write/x')).toBe(200);

    expect((await admin(tollgate.url, 'PATCH', `/clients/${client.client_id}`, { scope: 'read' })).status).toBe(200);
    expect(await introspect(token)).toMatchObject({ active: true, scope: 'read' });
    expect(await gateway(token, '/write/x')).toBe(403);
    expect(await gateway(token, '/read/x')).toBe(200);

    // Widening the allow-list again gives back only what the token was issued with.
    expect((await admin(tollgate.url, 'PATCH', `/clients/${client.client_id}`, { scope: 'read write admin' })).status).toBe(200);
    expect(await introspect(token)).toMatchObject({ active: true, scope: 'read write' });
  });

  it("narrows its issuer tokens, and the admin API's own token check", async () => {
    const client = await registerClient(tollgate.url, { scope: 'admin read' });
    const issued = await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret, 'admin read');
    const token = issued.body.access_token as string;
    expect((await admin(tollgate.url, 'GET', '/clients?limit=1', undefined, token)).status).toBe(200);
    expect((await admin(tollgate.url, 'PATCH', `/clients/${client.client_id}`, { scope: 'read' })).status).toBe(200);
    const body = await introspect(token);
    expect(body).toMatchObject({ active: true, scope: 'read' });
    expect((await admin(tollgate.url, 'GET', '/clients?limit=1', undefined, token)).status).toBe(403);
  });

  it('narrows a JWT access token: the JWT is the same, the answers about it are not', async () => {
    await createApi(JWT_API, { access_token_format: 'jwt' });
    const client = await registerClient(tollgate.url, { scope: 'read write' });
    const token = await tokenFor(client, JWT_API);
    expect(token.split('.')).toHaveLength(3);
    expect(await gateway(token, '/write/x')).toBe(200);
    expect((await admin(tollgate.url, 'PATCH', `/clients/${client.client_id}`, { scope: 'read' })).status).toBe(200);
    expect(await introspect(token)).toMatchObject({ active: true, scope: 'read' });
    expect(await gateway(token, '/write/x')).toBe(403);
    // RFC 9701: the signed answer says the same.
    const signed = await fetch(`${tollgate.url}/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/token-introspection+jwt',
        authorization: `Basic ${Buffer.from(`${introspector.client_id}:${introspector.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token }).toString(),
    });
    const claims = JSON.parse(Buffer.from((await signed.text()).split('.')[1]!, 'base64url').toString()) as { token_introspection: Record<string, unknown> };
    expect(claims.token_introspection).toMatchObject({ active: true, scope: 'read' });
  });
});

describe("a resource server's scopes narrowed", () => {
  it('narrows the live tokens issued for it at once', async () => {
    const id = await createApi('https://stock.example/api');
    const client = await registerClient(tollgate.url, { scope: 'read write' });
    const token = await tokenFor(client, 'https://stock.example/api');
    expect(await gateway(token, '/write/x')).toBe(200);
    expect(await introspect(token)).toMatchObject({ active: true, scope: 'read write' });

    expect((await admin(tollgate.url, 'PATCH', `/resource-servers/${id}`, { scopes: ['read'] })).status).toBe(200);
    expect(await introspect(token)).toMatchObject({ active: true, scope: 'read' });
    expect(await gateway(token, '/write/x')).toBe(403);
    expect(await gateway(token, '/read/x')).toBe(200);
  });
});

describe('a resource server gone', () => {
  it('ends the live tokens issued for it, which a renamed identifier no longer names', async () => {
    const deleted = await createApi('https://billing.example/api');
    const renamed = await createApi('https://shipping.example/api');
    const client = await registerClient(tollgate.url, { scope: 'read write' });
    const forDeleted = await tokenFor(client, 'https://billing.example/api');
    const forRenamed = await tokenFor(client, 'https://shipping.example/api');
    expect(await introspect(forDeleted)).toMatchObject({ active: true });
    expect(await introspect(forRenamed)).toMatchObject({ active: true });

    expect((await admin(tollgate.url, 'DELETE', `/resource-servers/${deleted}`)).status).toBe(204);
    expect((await admin(tollgate.url, 'PATCH', `/resource-servers/${renamed}`, { identifier: 'https://shipping.example/v2' })).status).toBe(200);
    expect(await introspect(forDeleted)).toEqual({ active: false });
    expect(await introspect(forRenamed)).toEqual({ active: false });
    expect(await gateway(forRenamed, '/read/x')).toBe(401);
  });
});
