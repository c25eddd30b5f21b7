// Introspection from memory (src/tokens/fast-introspection.ts, answered by the fast lane): once a caller and a token are known,
// /introspect is answered from memory with the provider's own answer, and every change that ends a
// token or a credential still takes effect on the very next request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, clientCredentialsToken, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

let tollgate: TestTollgate;
let resourceServer: RegisteredClient;
beforeAll(async () => {
  tollgate = await startTollgate();
  resourceServer = await registerClient(tollgate.url, { client_name: 'api', resource_server: true });
  // A caller's first request authenticates through the provider (argon2); only later ones can be fast.
  await introspect('warm-up');
});
afterAll(() => tollgate?.close());

type Auth = [string, string];
const auth = (client: RegisteredClient): Auth => [client.client_id, client.client_secret];
const introspect = (token: string, as: Auth = auth(resourceServer)) => postForm(tollgate.url, '/introspect', { token }, as);
const cached = () => tollgate.running.app.caches.tokens.size;

async function issue(client: RegisteredClient, scope?: string): Promise<string> {
  const response = await clientCredentialsToken(tollgate.url, ...auth(client), scope);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.access_token as string;
}

/** Removes the token row behind the provider's back: only a cached answer can still say active. */
async function deleteRowsOf(clientId: string) {
  await tollgate.db.prisma.oidcPayload.deleteMany({ where: { clientId } });
}

describe('introspection from the cache', () => {
  it('answers exactly as the provider did, headers included', async () => {
    const client = await registerClient(tollgate.url, { scope: 'read write' });
    const token = await issue(client, 'read');
    const before = cached();
    const first = await introspect(token);
    expect(cached()).toBe(before + 1);
    const second = await introspect(token);

    expect(first.body).toMatchObject({ active: true, client_id: client.client_id, sub: client.client_id, scope: 'read', token_type: 'Bearer' });
    expect(second.body).toEqual(first.body);
    expect(JSON.stringify(second.body)).toBe(JSON.stringify(first.body)); // same member order too
    for (const header of ['content-type', 'cache-control', 'x-content-type-options']) {
      expect(second.headers.get(header), header).toBe(first.headers.get(header));
    }
    expect(second.headers.get('cache-control')).toBe('no-store');
  });

  it('is really answering from memory once the token is known', async () => {
    const client = await registerClient(tollgate.url);
    const token = await issue(client);
    expect((await introspect(token)).body.active).toBe(true);
    await deleteRowsOf(client.client_id);
    expect((await introspect(token)).body.active).toBe(true);
  });

  it('applies the provider’s policy to cached tokens: only the owner or a resource server sees them', async () => {
    const owner = await registerClient(tollgate.url);
    const stranger = await registerClient(tollgate.url);
    const token = await issue(owner);
    expect((await introspect(token)).body.active).toBe(true); // cached through the resource server
    expect((await introspect(token, auth(owner))).body.active).toBe(true);
    expect((await introspect(token, auth(stranger))).body).toEqual({ active: false });
    expect((await introspect(token, auth(stranger))).body).toEqual({ active: false });
  });

  it('answers an unknown token inactive without caching it', async () => {
    const before = cached();
    expect((await introspect('no-such-token-0123456789')).body).toEqual({ active: false });
    expect(cached()).toBe(before);
  });

  it('still refuses a wrong secret from a caller it knows', async () => {
    const token = await issue(await registerClient(tollgate.url));
    expect((await introspect(token)).body.active).toBe(true);
    const wrong = await introspect(token, [resourceServer.client_id, `${resourceServer.client_secret}x`]);
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
  });
});

describe('what ends a cached token at once', () => {
  it('revocation', async () => {
    const client = await registerClient(tollgate.url);
    const token = await issue(client);
    expect((await introspect(token)).body.active).toBe(true);
    expect((await postForm(tollgate.url, '/revoke', { token }, auth(client))).status).toBe(200);
    expect((await introspect(token)).body).toEqual({ active: false });
  });

  it('deleting the client', async () => {
    const client = await registerClient(tollgate.url);
    const token = await issue(client);
    expect((await introspect(token)).body.active).toBe(true);
    expect((await admin(tollgate.url, 'DELETE', `/clients/${client.client_id}`)).status).toBe(204);
    expect((await introspect(token)).body).toEqual({ active: false });
  });

  it('disabling the client', async () => {
    const client = await registerClient(tollgate.url);
    const token = await issue(client);
    expect((await introspect(token)).body.active).toBe(true);
    expect((await admin(tollgate.url, 'PATCH', `/clients/${client.client_id}`, { disabled: true })).status).toBe(200);
    expect((await introspect(token)).body).toEqual({ active: false });
  });

  it('rotating the caller’s secret (no overlap): its cached authentication goes too', async () => {
    const caller = await registerClient(tollgate.url, { resource_server: true });
    const token = await issue(await registerClient(tollgate.url));
    expect((await introspect(token, auth(caller))).body.active).toBe(true);
    expect((await introspect(token, auth(caller))).body.active).toBe(true);
    const rotated = await admin(tollgate.url, 'POST', `/clients/${caller.client_id}/secret`, {});
    expect(rotated.status).toBe(200);
    expect((await introspect(token, auth(caller))).status).toBe(401);
    expect((await introspect(token, [caller.client_id, rotated.body.client_secret as string])).body.active).toBe(true);
  });

  it('taking resource_server away from the caller', async () => {
    const caller = await registerClient(tollgate.url, { resource_server: true });
    const token = await issue(await registerClient(tollgate.url));
    expect((await introspect(token, auth(caller))).body.active).toBe(true);
    expect((await introspect(token, auth(caller))).body.active).toBe(true);
    expect((await admin(tollgate.url, 'PATCH', `/clients/${caller.client_id}`, { resource_server: false })).status).toBe(200);
    expect((await introspect(token, auth(caller))).body).toEqual({ active: false });
  });
});
