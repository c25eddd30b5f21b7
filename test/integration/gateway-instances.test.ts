// Two instances on one PostgreSQL database, each with its gateway check: a rule change, a
// revocation (of an opaque or a JWT access token) and a used DPoP proof on one reach the other within a second, through the
// invalidation channel (no instance re-reads on a timer).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DpopKey } from '../helpers/dpop.js';
import { startInstances, type Instances } from '../helpers/instances.js';
import { admin, basic, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { usingPostgres } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';

const ISSUER = 'http://127.0.0.1';
const WITHIN_A_SECOND = { timeoutMs: 1000, intervalMs: 20 };
const JWT_API = 'https://jwt-api.example';
const API = 'https://api.example.com/api';

describe.skipIf(!usingPostgres)('the gateway check on two instances', () => {
  let instances: Instances;
  let a: string;
  let b: { url: string; gateway: string };
  let serverId: string;
  let client: RegisteredClient;

  beforeAll(async () => {
    instances = await startInstances(2, { GATEWAY_PORT: '0' });
    a = instances.servers[0]!.url;
    b = { url: instances.servers[1]!.url, gateway: instances.servers[1]!.gatewayUrl! };
    const created = await admin(a, 'POST', '/resource-servers', { identifier: API, name: 'API', scopes: ['read'] });
    serverId = created.body.id as string;
    client = await registerClient(a!, { scope: 'read' });
  });
  afterAll(() => instances?.close());

  const check = async (token: string, uri = '/api/x', extra: Record<string, string> = {}) =>
    (
      await fetch(`${b.gateway}/gateway/check`, {
        headers: { authorization: `Bearer ${token}`, 'x-original-uri': uri, 'x-forwarded-host': 'api.example.com', ...extra },
      })
    ).status;
  const setRoutes = async (routes: unknown[]) => expect((await admin(a!, 'PUT', `/resource-servers/${serverId}/routes`, { routes })).status).toBe(200);
  const tokenOf = async () =>
    (await postForm(a, '/token', { grant_type: 'client_credentials', scope: 'read', resource: API }, [client.client_id, client.client_secret])).body
      .access_token as string;

  it('applies a rule change made on A to the checks on B', async () => {
    const token = await tokenOf();
    await setRoutes([{ path: '/api/**', scopes_all: ['read'] }]);
    await waitFor(async () => (await check(token)) === 200, 'the new rule on B', WITHIN_A_SECOND);
    await setRoutes([{ path: '/other/**', scopes_all: ['read'] }]);
    await waitFor(async () => (await check(token)) === 403, 'the removed rule on B', WITHIN_A_SECOND);
    await setRoutes([{ path: '/api/**', scopes_all: ['read'] }]);
    await waitFor(async () => (await check(token)) === 200, 'the rule again on B', WITHIN_A_SECOND);
  });

  it('refuses on B a token revoked on A, which B had remembered', async () => {
    const token = await tokenOf();
    expect(await check(token)).toBe(200);
    expect((await postForm(a!, '/revoke', { token }, [client.client_id, client.client_secret])).status).toBe(200);
    await waitFor(async () => (await check(token)) === 401, 'the revocation on B', WITHIN_A_SECOND);
  });

  it('refuses on B a JWT access token revoked on A, which B had remembered', async () => {
    const jwtServer = await admin(a, 'POST', '/resource-servers', { identifier: JWT_API, name: 'JWT API', scopes: ['read'], access_token_format: 'jwt' });
    expect(jwtServer.status, JSON.stringify(jwtServer.body)).toBe(201);
    expect(
      (await admin(a, 'PUT', `/resource-servers/${jwtServer.body.id as string}/routes`, { routes: [{ path: '/jwt/**', scopes_all: ['read'] }] })).status,
    ).toBe(200);
    const issued = await postForm(a, '/token', { grant_type: 'client_credentials', scope: 'read', resource: JWT_API }, [
      client.client_id,
      client.client_secret,
    ]);
    const jwt = issued.body.access_token as string;
    expect(jwt.split('.'), JSON.stringify(issued.body)).toHaveLength(3);
    await waitFor(async () => (await check(jwt, '/jwt/x')) === 200, 'the JWT passing on B', WITHIN_A_SECOND);
    expect((await postForm(a, '/revoke', { token: jwt }, [client.client_id, client.client_secret])).status).toBe(200);
    await waitFor(async () => (await check(jwt, '/jwt/x')) === 401, 'the JWT revocation on B', WITHIN_A_SECOND);
  });

  it("narrows on B, at the gateway and at introspection, a token B remembered once its client's allow-list is narrowed on A", async () => {
    await setRoutes([{ path: '/api/**', scopes_all: ['read'] }]);
    const narrowed = await registerClient(a, { scope: 'read' });
    const issued = await postForm(a, '/token', { grant_type: 'client_credentials', scope: 'read', resource: API }, [
      narrowed.client_id,
      narrowed.client_secret,
    ]);
    const token = issued.body.access_token as string;
    const introspectOnB = async () => (await postForm(b.url, '/introspect', { token }, [narrowed.client_id, narrowed.client_secret])).body;
    await waitFor(async () => (await check(token)) === 200, 'the token passing on B', WITHIN_A_SECOND);
    expect(await introspectOnB()).toMatchObject({ active: true, scope: 'read' });
    expect(await introspectOnB()).toMatchObject({ active: true, scope: 'read' });
    expect((await admin(a, 'PATCH', `/clients/${narrowed.client_id}`, { scope: '' })).status).toBe(200);
    await waitFor(async () => (await check(token)) === 403, 'the narrowed token refused on B', WITHIN_A_SECOND);
    await waitFor(async () => (await introspectOnB()).scope === undefined, 'the narrowed introspection on B', WITHIN_A_SECOND);
    expect(await introspectOnB()).toMatchObject({ active: true });
  });

  it("narrows on B a token B remembered once its resource server's scopes are narrowed on A", async () => {
    await setRoutes([{ path: '/api/**', scopes_all: ['read'] }]);
    const token = await tokenOf();
    await waitFor(async () => (await check(token)) === 200, 'the token passing on B', WITHIN_A_SECOND);
    expect((await admin(a, 'PATCH', `/resource-servers/${serverId}`, { scopes: [] })).status).toBe(200);
    try {
      await waitFor(async () => (await check(token)) === 403, 'the narrowed token refused on B', WITHIN_A_SECOND);
    } finally {
      expect((await admin(a, 'PATCH', `/resource-servers/${serverId}`, { scopes: ['read'] })).status).toBe(200);
    }
  });

  it('refuses on B a DPoP proof already used at A', async () => {
    const key = new DpopKey();
    const bound = await registerClient(a!, { scope: 'read', dpop_bound_access_tokens: true });
    const issued = await fetch(`${a}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(bound.client_id, bound.client_secret),
        dpop: key.proof(`${ISSUER}/token`),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read', resource: API }).toString(),
    });
    const token = ((await issued.json()) as { access_token: string }).access_token;
    const headers = {
      authorization: `DPoP ${token}`,
      'x-original-uri': '/api/x',
      'x-forwarded-host': 'api.example.com',
      dpop: key.proof('http://api.example.com/api/x', { ath: createHash('sha256').update(token).digest('base64url') }, 'GET'),
    };
    const gatewayA = instances.servers[0]!.gatewayUrl!;
    const first = await fetch(`${gatewayA}/gateway/check`, { headers });
    expect(first.status, JSON.stringify(await first.json())).toBe(200);
    expect((await fetch(`${b.gateway}/gateway/check`, { headers })).status).toBe(401);
  });
});
