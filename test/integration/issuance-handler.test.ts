// The issuance handler (src/tokens/issuance-handler.ts): a plain
// client_credentials request gets the token the provider would have issued, without the provider's
// request pipeline; anything else still gets the provider's own answer.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { auditEvents } from '../helpers/ops.js';
import { type ProviderOnly, providerOnly } from '../helpers/provider-only.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

let tollgate: TestTollgate;
/** The same app, answered by the provider alone. */
let provider: ProviderOnly;
let resourceServer: RegisteredClient;
/** Token requests the provider answered itself: the fast lane never emits grant.success. */
let providerAnswers = 0;
beforeAll(async () => {
  tollgate = await startTollgate();
  provider = await providerOnly(tollgate.running.app);
  tollgate.running.app.provider.on('grant.success', () => (providerAnswers += 1));
  resourceServer = await registerClient(tollgate.url, { client_name: 'api', resource_server: true });
});
afterAll(async () => {
  await provider?.close();
  await tollgate?.close();
});

type Auth = [string, string];
const auth = (client: RegisteredClient): Auth => [client.client_id, client.client_secret];
const tokenRequest = (client: RegisteredClient, form: Record<string, string> = {}, url = tollgate.url) =>
  postForm(url, '/token', { grant_type: 'client_credentials', ...form }, auth(client));
const introspect = (token: string) => postForm(tollgate.url, '/introspect', { token }, auth(resourceServer));
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/** A client whose secret the server has verified once (through the provider, with argon2). */
async function knownClient(metadata: Record<string, unknown> = {}): Promise<RegisteredClient> {
  const client = await registerClient(tollgate.url, { scope: 'read write', ...metadata });
  const first = await tokenRequest(client, { scope: 'read' });
  expect(first.status, JSON.stringify(first.body)).toBe(200);
  return client;
}

/** The answer to `request` and whether the provider gave it. */
async function answered<T>(request: () => Promise<T>): Promise<{ response: T; byProvider: boolean }> {
  const before = providerAnswers;
  const response = await request();
  return { response, byProvider: providerAnswers > before };
}

describe('issuance without the provider pipeline', () => {
  it('answers exactly as the provider did, headers and token included', async () => {
    const client = await registerClient(tollgate.url, { scope: 'read write', access_token_ttl: 120 });
    // The provider's own answer (through the listener without the handlers), then the issuance handler's.
    const first = await answered(() => tokenRequest(client, { scope: 'read' }, provider.url));
    const second = await answered(() => tokenRequest(client, { scope: 'read' }));
    expect(first.byProvider).toBe(true);
    expect(second.byProvider).toBe(false);

    const [a, b] = [first.response, second.response];
    expect(b.status).toBe(200);
    expect(Object.keys(b.body)).toEqual(Object.keys(a.body)); // same members, same order
    expect(b.body).toMatchObject({ expires_in: 120, scope: 'read', token_type: 'Bearer' });
    expect(b.body.expires_in).toBe(a.body.expires_in);
    expect(b.body.access_token).toMatch(/^[\w-]{43}$/);
    expect(b.body.access_token).not.toBe(a.body.access_token);
    const comparable = (headers: Headers) => Object.fromEntries([...headers].filter(([name]) => !['date', 'x-request-id', 'content-length'].includes(name)));
    expect(comparable(b.headers)).toEqual(comparable(a.headers));

    // Both tokens are the same kind of token to a resource server.
    const [viewA, viewB] = [(await introspect(a.body.access_token as string)).body, (await introspect(b.body.access_token as string)).body];
    expect(viewB).toMatchObject({ active: true, client_id: client.client_id, sub: client.client_id, scope: 'read', token_type: 'Bearer' });
    expect(Object.keys(viewB)).toEqual(Object.keys(viewA));
    expect((viewB.exp as number) - (viewB.iat as number)).toBe((viewA.exp as number) - (viewA.iat as number));
    for (const claim of ['iss', 'aud', 'client_id', 'sub', 'scope', 'token_type']) expect(viewB[claim], claim).toEqual(viewA[claim]);
  });

  it('grants the default scopes when none is asked for, and a repeated request its own scope', async () => {
    const client = await knownClient({ default_scope: 'read' });
    const defaulted = await answered(() => tokenRequest(client));
    expect(defaulted.byProvider).toBe(false);
    expect(defaulted.response.body.scope).toBe('read');
    const both = await answered(() => tokenRequest(client, { scope: 'write read' }));
    expect(both.byProvider).toBe(false);
    expect(both.response.body.scope).toBe('write read');
  });

  it('stores and audits the token like any other: revocable at once, one token.issued event', async () => {
    const client = await knownClient();
    const { response, byProvider } = await answered(() => tokenRequest(client, { scope: 'write' }));
    expect(byProvider).toBe(false);
    const token = response.body.access_token as string;
    expect((await introspect(token)).body.active).toBe(true);
    expect((await postForm(tollgate.url, '/revoke', { token }, auth(client))).status).toBe(200);
    expect((await introspect(token)).body).toEqual({ active: false });

    await tollgate.running.app.audit.flush();
    const { events } = await auditEvents(tollgate.url, { client_id: client.client_id, type: 'token.issued' });
    expect(events.filter((event) => event.details.token_id === sha256(token))).toEqual([
      expect.objectContaining({
        actor: client.client_id,
        subject: client.client_id,
        outcome: 'success',
        details: expect.objectContaining({ grant_type: 'client_credentials', scope: 'write', dpop: false }),
      }),
    ]);
  });
});

describe('what the provider still answers', () => {
  it('a scope the client may not have: invalid_scope, every time', async () => {
    const client = await knownClient();
    for (let i = 0; i < 2; i += 1) {
      const { response, byProvider } = await answered(() => tokenRequest(client, { scope: 'read admin' }));
      expect(byProvider).toBe(false); // refused, so no grant.success either
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('invalid_scope');
    }
  });

  it('a wrong secret, a disabled client and a grant type the client lacks', async () => {
    const client = await knownClient();
    expect((await postForm(tollgate.url, '/token', { grant_type: 'client_credentials' }, [client.client_id, `${client.client_secret}x`])).status).toBe(401);
    const codeOnly = await registerClient(tollgate.url, { grant_types: ['authorization_code'], redirect_uris: ['https://app.example/cb'] });
    expect((await tokenRequest(codeOnly)).body.error).toBe('unauthorized_client');
    expect((await tokenRequest(codeOnly)).body.error).toBe('unauthorized_client');
  });

  it('client_secret_post, a resource indicator, a DPoP proof, a CORS request', async () => {
    const client = await knownClient();
    // RFC 7591: the registered method only; a client registered for client_secret_post is the provider's.
    const wrongMethod = await postForm(tollgate.url, '/token', {
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
    });
    expect(wrongMethod.status).toBe(401);
    expect(wrongMethod.body.error).toBe('invalid_client');
    const postClient = await registerClient(tollgate.url, { token_endpoint_auth_method: 'client_secret_post' });
    const post = await answered(() =>
      postForm(tollgate.url, '/token', { grant_type: 'client_credentials', client_id: postClient.client_id, client_secret: postClient.client_secret }),
    );
    expect(post.response.status).toBe(200);
    expect(post.byProvider, 'client_secret_post').toBe(true);
    const resource = await answered(() => tokenRequest(client, { resource: 'https://elsewhere.example' }));
    expect(resource.response.body.error).toBe('invalid_target');
    const dpop = await fetch(`${tollgate.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(...auth(client)), dpop: 'not-a-proof' },
      body: 'grant_type=client_credentials',
    });
    expect(dpop.status).toBe(400);
    expect(((await dpop.json()) as { error: string }).error).toBe('invalid_dpop_proof');
    const cors = await answered(() =>
      fetch(`${tollgate.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(...auth(client)), origin: 'https://app.example' },
        body: 'grant_type=client_credentials',
      }),
    );
    // The provider refuses a browser origin the client has not registered.
    expect(cors.response.status).toBe(400);
    expect(((await cors.response.json()) as { error_description: string }).error_description).toMatch(/origin https:\/\/app.example not allowed/);
  });

  it('a client that must use DPoP is still refused without a proof', async () => {
    const client = await registerClient(tollgate.url, { dpop_bound_access_tokens: true });
    const first = await tokenRequest(client);
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('invalid_dpop_proof');
    expect((await tokenRequest(client)).body).toEqual(first.body);
  });
});

describe('forms', () => {
  it('refuses a form of more than 100 parameters with 400 naming the limit, repeated ones included', async () => {
    const client = await knownClient();
    const send = (extra: string) =>
      fetch(`${tollgate.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, client.client_secret) },
        body: `grant_type=client_credentials&scope=read${extra}`,
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    for (const extra of ['&x=1'.repeat(99), '&resource=https%3A%2F%2Fapi.example'.repeat(99), '&&x'.repeat(2000)]) {
      expect(await send(extra)).toEqual({ status: 400, body: { error: 'invalid_request', error_description: 'forms have at most 100 parameters' } });
    }
    // 100 parameters, empty ones between them not counted: the request is answered as before.
    expect((await send(`${'&x=1'.repeat(98)}&&&`)).status).toBe(200);
  });
});
