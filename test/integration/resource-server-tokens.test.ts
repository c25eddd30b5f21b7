// Tokens for resource servers (RFC 8707): scopes, lifetime, audience and format come from the
// resource server; JWT access tokens (RFC 9068) are checked with libraries written elsewhere, as a
// resource server would check them, and are introspected and revoked like opaque ones.
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DpopKey } from '../helpers/dpop.js';
import { admin, adminToken, basic, expectError, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, registerAppClient, signInForTokens } from '../helpers/users.js';

let tollgate: TestTollgate;
let token: string;
let client: RegisteredClient;
/** The resource servers registered below, by name: their ids. */
const ids: Record<string, string> = {};

const ORDERS = 'https://orders.example/api';
const LEDGER = 'https://ledger.example';
const ES = 'urn:example:es256';
const ED = 'urn:example:eddsa';
const BOUND = 'https://bound.example';

async function registerResourceServer(name: string, body: Record<string, unknown>) {
  const created = await admin(tollgate.url, 'POST', '/resource-servers', { name, ...body }, token);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  ids[name] = created.body.id as string;
}

beforeAll(async () => {
  tollgate = await startTollgate();
  token = await adminToken(tollgate.url);
  await registerResourceServer('orders', { identifier: ORDERS, scopes: ['orders:read', 'orders:write', 'orders:export'], access_token_ttl: 600 });
  await registerResourceServer('ledger', { identifier: LEDGER, scopes: ['ledger:read', 'ledger:write'], access_token_format: 'jwt', access_token_ttl: 120 });
  await registerResourceServer('es', { identifier: ES, scopes: ['ledger:read'], access_token_format: 'jwt', signing_alg: 'ES256' });
  await registerResourceServer('ed', { identifier: ED, scopes: ['ledger:read'], access_token_format: 'jwt', signing_alg: 'EdDSA' });
  await registerResourceServer('bound', { identifier: BOUND, scopes: ['ledger:read'], access_token_format: 'jwt', dpop_required: true });
  client = await registerClient(tollgate.url, { scope: 'orders:read orders:write ledger:read ledger:write other', default_scope: 'orders:read other' });
});
afterAll(() => tollgate?.close());

const request = (form: Record<string, string>, as: RegisteredClient = client, headers: Record<string, string> = {}) =>
  fetch(`${tollgate.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(as.client_id, as.client_secret), ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...form }).toString(),
  }).then(async (response) => ({ status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> }));

const introspect = (value: string, as: RegisteredClient = client) => postForm(tollgate.url, '/introspect', { token: value }, [as.client_id, as.client_secret]);

describe('RFC 8707: a token for a resource server', () => {
  it('carries the requested scopes within the client allow-list and the server scopes, its audience and lifetime', async () => {
    const issued = await request({ resource: ORDERS, scope: 'orders:read orders:write' });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body).toMatchObject({ scope: 'orders:read orders:write', expires_in: 600, token_type: 'Bearer' });
    const seen = await introspect(issued.body.access_token as string);
    expect(seen.body).toMatchObject({ active: true, aud: ORDERS, scope: 'orders:read orders:write', client_id: client.client_id });
  });

  it('without scope: the client default scopes that the server defines', async () => {
    const issued = await request({ resource: ORDERS });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body.scope).toBe('orders:read');
  });

  it.each([
    ['a scope the server does not define', 'orders:read other', 'other'],
    ['a scope the client may not have', 'orders:export', 'orders:export'],
  ])('refuses %s with invalid_scope', async (_case, scope, refused) => {
    const refusal = await request({ resource: ORDERS, scope });
    expectError({ ...refusal, body: refusal.body }, 400);
    expect(refusal.body).toMatchObject({ error: 'invalid_scope', scope: refused });
  });

  it.each([['https://unknown.example'], ['not a uri'], ['https://orders.example/api#frag']])('refuses resource %s with invalid_target', async (resource) => {
    const refusal = await request({ resource });
    expect(refusal.status).toBe(400);
    expect(refusal.body.error).toBe('invalid_target');
  });

  it('refuses two resources at once with invalid_target', async () => {
    const body = new URLSearchParams([
      ['grant_type', 'client_credentials'],
      ['resource', ORDERS],
      ['resource', LEDGER],
    ]);
    const response = await fetch(`${tollgate.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, client.client_secret) },
      body,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_target');
  });

  it("lives as long as the server says, shortened (never lengthened) by the client's own lifetime", async () => {
    const brief = await registerClient(tollgate.url, { scope: 'orders:read', access_token_ttl: 30 });
    expect((await request({ resource: ORDERS }, brief)).body.expires_in).toBe(30);
    const long = await registerClient(tollgate.url, { scope: 'orders:read', access_token_ttl: 3600 });
    expect((await request({ resource: ORDERS }, long)).body.expires_in).toBe(600);
  });

  it('without resource is what it always was: opaque, for the issuer', async () => {
    const issued = await request({ scope: 'other' });
    expect(issued.status).toBe(200);
    expect(issued.body.access_token).not.toContain('.');
    expect((await introspect(issued.body.access_token as string)).body).toMatchObject({ active: true, aud: tollgate.url, scope: 'other' });
  });

  it("is no admin token, whatever its scopes: the admin API takes the issuer's own tokens only", async () => {
    await registerResourceServer('adminish', { identifier: 'https://adminish.example', scopes: ['admin'] });
    const operator = await registerClient(tollgate.url, { scope: 'admin' });
    const forServer = await request({ resource: 'https://adminish.example', scope: 'admin' }, operator);
    expect(forServer.status, JSON.stringify(forServer.body)).toBe(200);
    expect((await admin(tollgate.url, 'GET', '/clients', undefined, forServer.body.access_token as string)).status).toBe(401);
    const forIssuer = await request({ scope: 'admin' }, operator);
    expect((await admin(tollgate.url, 'GET', '/clients', undefined, forIssuer.body.access_token as string)).status).toBe(200);
  });
});

describe('RFC 9068: JWT access tokens', () => {
  const jwks = () => createRemoteJWKSet(new URL(`${tollgate.url}/jwks`));

  it.each([
    [LEDGER, 'RS256', 'ledger:read ledger:write', 120],
    [ES, 'ES256', 'ledger:read', 300],
    [ED, 'EdDSA', 'ledger:read', 300],
  ])('for %s: signed with %s, typ at+jwt, every claim, verified with jose against /jwks', async (resource, alg, scope, ttl) => {
    const issued = await request({ resource, scope });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', scope, expires_in: ttl });
    const value = issued.body.access_token as string;
    const { payload, protectedHeader } = await jwtVerify(value, jwks(), { issuer: tollgate.url, audience: resource, typ: 'at+jwt', algorithms: [alg] });
    expect(protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: expect.any(String) });
    expect(payload).toEqual({
      iss: tollgate.url,
      aud: resource,
      sub: client.client_id,
      client_id: client.client_id,
      scope,
      jti: expect.any(String),
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    expect(payload.exp! - payload.iat!).toBe(ttl);
  });

  it('validates with oauth4webapi as a resource server validates a request', async () => {
    const value = (await request({ resource: LEDGER, scope: 'ledger:read' })).body.access_token as string;
    const as = await discover();
    const resourceRequest = new Request('https://ledger.example/entries', { headers: { authorization: `Bearer ${value}` } });
    const claims = await oauth.validateJwtAccessToken(as, resourceRequest, LEDGER, { [oauth.allowInsecureRequests]: true });
    expect(claims).toMatchObject({ iss: tollgate.url, aud: LEDGER, client_id: client.client_id, sub: client.client_id, scope: 'ledger:read' });
    // Another audience is another resource server's token.
    await expect(oauth.validateJwtAccessToken(as, resourceRequest, ORDERS, { [oauth.allowInsecureRequests]: true })).rejects.toThrow();
  });

  it('introspects as active, and as inactive once revoked; its jti alone is no token', async () => {
    const value = (await request({ resource: LEDGER, scope: 'ledger:read' })).body.access_token as string;
    const { jti } = decodeJwt(value);
    const active = await introspect(value);
    expect(active.body).toMatchObject({ active: true, aud: LEDGER, client_id: client.client_id, scope: 'ledger:read', token_type: 'Bearer', jti });
    expect((await introspect(jti!)).body).toEqual({ active: false });
    expect((await postForm(tollgate.url, '/revoke', { token: jti! }, [client.client_id, client.client_secret])).status).toBe(200);
    expect((await introspect(value)).body.active).toBe(true);
    expect((await postForm(tollgate.url, '/revoke', { token: value }, [client.client_id, client.client_secret])).status).toBe(200);
    expect((await introspect(value)).body).toEqual({ active: false });
  });

  it('a JWT not signed by this server is inactive, even with a stored jti', async () => {
    const value = (await request({ resource: LEDGER, scope: 'ledger:read' })).body.access_token as string;
    const [header, payload] = value.split('.');
    expect((await introspect(`${header}.${payload}.${'A'.repeat(342)}`)).body).toEqual({ active: false });
    expect((await introspect(value)).body.active).toBe(true);
  });
});

describe('a client linked to a resource server', () => {
  it('introspects the tokens issued for that server, not the others', async () => {
    const api = await registerClient(tollgate.url, { resource_server_id: ids.orders });
    expect(api.resource_server_id).toBe(ids.orders);
    const forOrders = (await request({ resource: ORDERS, scope: 'orders:read' })).body.access_token as string;
    const forLedger = (await request({ resource: LEDGER, scope: 'ledger:read' })).body.access_token as string;
    const forIssuer = (await request({ scope: 'other' })).body.access_token as string;
    // Twice: the second answer comes from the introspection handler's cache, decided again by the policy.
    for (let round = 0; round < 2; round += 1) {
      expect((await introspect(forOrders, api)).body).toMatchObject({ active: true, aud: ORDERS });
      expect((await introspect(forLedger, api)).body).toEqual({ active: false });
      expect((await introspect(forIssuer, api)).body).toEqual({ active: false });
    }
    // Unlinked, it sees its own tokens only.
    expect((await admin(tollgate.url, 'PATCH', `/clients/${api.client_id}`, { resource_server_id: null }, token)).body).not.toHaveProperty(
      'resource_server_id',
    );
    expect((await introspect(forOrders, api)).body).toEqual({ active: false });
  });

  it('must name a resource server that exists, and cannot be a public client', async () => {
    expectError(
      await admin(tollgate.url, 'POST', '/clients', { resource_server_id: '00000000-0000-0000-0000-000000000000' }, token),
      400,
      'resource_server_id',
    );
    const app = {
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example/cb'],
      resource_server_id: ids.orders,
    };
    expectError(await admin(tollgate.url, 'POST', '/clients', app, token), 400, 'resource_server_id');
  });
});

describe('RFC 9449: a resource server with dpop_required', () => {
  it('gets no token without a DPoP proof, and a DPoP-bound JWT (cnf.jkt) with one, which oauth4webapi validates', async () => {
    const refusal = await request({ resource: BOUND, scope: 'ledger:read' });
    expect(refusal.status).toBe(400);
    expect(refusal.body).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringContaining('DPoP proof is required') });

    const key = new DpopKey();
    const issued = await request({ resource: BOUND, scope: 'ledger:read' }, client, { dpop: key.proof(`${tollgate.url}/token`) });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body.token_type).toBe('DPoP');
    const value = issued.body.access_token as string;
    expect(decodeJwt(value).cnf).toEqual({ jkt: key.thumbprint });

    const url = 'https://bound.example/entries';
    const ath = createHash('sha256').update(value).digest('base64url');
    const resourceRequest = new Request(url, { headers: { authorization: `DPoP ${value}`, dpop: key.proof(url, { ath }, 'GET') } });
    const claims = await oauth.validateJwtAccessToken(await discover(), resourceRequest, BOUND, { requireDPoP: true, [oauth.allowInsecureRequests]: true });
    expect(claims.cnf).toEqual({ jkt: key.thumbprint });
    // Without the proof the bound token is refused.
    const stolen = new Request(url, { headers: { authorization: `DPoP ${value}` } });
    await expect(oauth.validateJwtAccessToken(await discover(), stolen, BOUND, { requireDPoP: true, [oauth.allowInsecureRequests]: true })).rejects.toThrow();
  });
});

describe('signing in for a resource server (authorization_code + PKCE)', () => {
  it('gets a JWT access token with auth_time, for the user', async () => {
    const app = await registerAppClient(tollgate.url, { scope: 'ledger:read other', default_scope: 'ledger:read' });
    const user = await createUser(tollgate.url);
    const before = Math.floor(Date.now() / 1000);
    const tokens = await signInForTokens(tollgate.url, { client: app, user, scope: 'ledger:read', extra: { resource: LEDGER } });
    const value = tokens.body.access_token as string;
    expect(decodeProtectedHeader(value)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    const { payload } = await jwtVerify(value, createRemoteJWKSet(new URL(`${tollgate.url}/jwks`)), { issuer: tollgate.url, audience: LEDGER, typ: 'at+jwt' });
    expect(payload).toMatchObject({ sub: user.id, client_id: app.client_id, scope: 'ledger:read' });
    expect(payload.auth_time).toBeGreaterThanOrEqual(before - 1);
    expect(payload.auth_time).toBeLessThanOrEqual(payload.iat!);
    expect(payload.exp! - payload.iat!).toBe(120);
  });
});

describe('DEFAULT_RESOURCE', () => {
  const DEFAULT = 'https://default.example/api';
  let other: TestTollgate;
  beforeAll(async () => {
    other = await startTollgate({ DEFAULT_RESOURCE: DEFAULT });
    const created = await admin(other.url, 'POST', '/resource-servers', {
      identifier: DEFAULT,
      name: 'Default',
      scopes: ['read'],
      access_token_format: 'jwt',
      access_token_ttl: 60,
    });
    expect(created.status).toBe(201);
  });
  afterAll(() => other?.close());

  it('makes a request without resource one for that resource server; a request for scope admin stays the issuer', async () => {
    const service = await registerClient(other.url, { scope: 'read write', default_scope: 'read' });
    const issued = await postForm(other.url, '/token', { grant_type: 'client_credentials' }, [service.client_id, service.client_secret]);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body).toMatchObject({ scope: 'read', expires_in: 60 });
    expect(decodeJwt(issued.body.access_token as string)).toMatchObject({ aud: DEFAULT, scope: 'read' });
    // Its scopes are the resource server's: one it does not define is refused.
    expect(
      (await postForm(other.url, '/token', { grant_type: 'client_credentials', scope: 'write' }, [service.client_id, service.client_secret])).body,
    ).toMatchObject({ error: 'invalid_scope' });
    // Another resource is still named explicitly; the admin token is still the issuer's.
    const adminBearer = await adminToken(other.url);
    expect(adminBearer).not.toContain('.');
    expect((await postForm(other.url, '/introspect', { token: adminBearer }, [service.client_id, service.client_secret])).body).toEqual({ active: false });
  });
});

async function discover(): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(tollgate.url);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
}
