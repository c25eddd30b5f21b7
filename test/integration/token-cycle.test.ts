// The core OAuth behaviour over HTTP: client_credentials (RFC 6749 §4.4), scopes, token lifetimes,
// introspection (RFC 7662), revocation (RFC 7009), and what secret rotation, disabling and deleting
// a client do to its credentials and tokens.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { advanceClock } from '../helpers/clock.js';
import { admin, clientCredentialsToken, postForm, registerClient, type HttpResult, type RegisteredClient } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

let tollgate: TestTollgate;
afterEach(() => {
  vi.useRealTimers();
});
beforeAll(async () => {
  tollgate = await startTollgate();
});
afterAll(() => tollgate?.close());

type Auth = [string, string];
const auth = (client: RegisteredClient): Auth => [client.client_id, client.client_secret];

/** A client_credentials access token; fails the test with the server's answer if there is none. */
async function issue(client: RegisteredClient, scope?: string, base = tollgate.url): Promise<string> {
  const response = await clientCredentialsToken(base, ...auth(client), scope);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.access_token as string;
}

const introspect = (token: string, as: Auth, base = tollgate.url) => postForm(base, '/introspect', { token }, as);
const revoke = (token: string, as: Auth) => postForm(tollgate.url, '/revoke', { token }, as);

function expectOAuthError(response: HttpResult, status: number, error: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error).toBe(error);
}

/** Introspection's only answer for a token the caller may not know about (RFC 7662 §2.2). */
async function expectInactive(token: string, as: Auth) {
  const response = await introspect(token, as);
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ active: false });
}

describe('client_credentials', () => {
  it('authenticates with client_secret_basic', async () => {
    const client = await registerClient(tollgate.url, { scope: 'read write' });
    const response = await clientCredentialsToken(tollgate.url, ...auth(client), 'read');
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'read' });
  });

  it('authenticates with client_secret_post', async () => {
    const client = await registerClient(tollgate.url, { scope: 'read write', token_endpoint_auth_method: 'client_secret_post' });
    const response = await postForm(tollgate.url, '/token', {
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.client_secret,
      scope: 'read write',
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 300, scope: 'read write' });
  });

  it('refuses a wrong secret, and no credentials at all, with 401 invalid_client', async () => {
    const client = await registerClient(tollgate.url);
    expectOAuthError(await clientCredentialsToken(tollgate.url, client.client_id, `${client.client_secret}x`), 401, 'invalid_client');
    expectOAuthError(await postForm(tollgate.url, '/token', { grant_type: 'client_credentials' }), 401, 'invalid_client');
  });
});

describe('scopes', () => {
  let client: RegisteredClient;
  beforeAll(async () => {
    client = await registerClient(tollgate.url, { scope: 'read write admin:reports', default_scope: 'read' });
  });

  it('grants a requested subset of the allowed scopes', async () => {
    const response = await clientCredentialsToken(tollgate.url, ...auth(client), 'write admin:reports');
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('write admin:reports');
  });

  it('refuses a scope outside the allow-list with 400 invalid_scope', async () => {
    expectOAuthError(await clientCredentialsToken(tollgate.url, ...auth(client), 'read delete'), 400, 'invalid_scope');
    expectOAuthError(await clientCredentialsToken(tollgate.url, ...auth(client), 'admin'), 400, 'invalid_scope');
  });

  it.each([
    ['a doubled space', 'read  write'],
    ['a leading space', ' read'],
    ['a trailing space', 'read '],
    ['a tab', 'read\twrite'],
    ['a double quote', 'read"'],
    ['a backslash', 'read\\'],
    ['a non-ASCII character', 'réad'],
  ])('refuses a malformed scope string (%s) with 400 invalid_scope', async (_name, scope) => {
    expectOAuthError(await clientCredentialsToken(tollgate.url, ...auth(client), scope), 400, 'invalid_scope');
  });

  it('grants the default scopes when scope is omitted', async () => {
    const response = await clientCredentialsToken(tollgate.url, ...auth(client));
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('read');
  });

  it('defaults to every allowed scope when the client has no default_scope', async () => {
    const all = await registerClient(tollgate.url, { scope: 'read write' });
    const response = await clientCredentialsToken(tollgate.url, ...auth(all));
    expect(response.status).toBe(200);
    expect(response.body.scope).toBe('read write');
    expect((await introspect(response.body.access_token as string, auth(all))).body.scope).toBe('read write');
  });

  it('gives a client without scopes a scope-less token, and nothing more', async () => {
    const none = await registerClient(tollgate.url);
    const response = await clientCredentialsToken(tollgate.url, ...auth(none));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.scope ?? '').toBe('');
    const info = await introspect(response.body.access_token as string, auth(none));
    expect(info.body.active).toBe(true);
    expect(info.body.scope ?? '').toBe('');
    expectOAuthError(await clientCredentialsToken(tollgate.url, ...auth(none), 'read'), 400, 'invalid_scope');
  });
});

describe('token lifetime', () => {
  async function lifetime(client: RegisteredClient, base = tollgate.url) {
    const response = await clientCredentialsToken(base, ...auth(client));
    expect(response.status).toBe(200);
    const info = await introspect(response.body.access_token as string, auth(client), base);
    expect(info.body.active).toBe(true);
    return { expiresIn: response.body.expires_in, introspected: (info.body.exp as number) - (info.body.iat as number) };
  }

  it('defaults to ACCESS_TOKEN_TTL, 300 seconds', async () => {
    expect(await lifetime(await registerClient(tollgate.url))).toEqual({ expiresIn: 300, introspected: 300 });
  });

  it('follows a client’s access_token_ttl', async () => {
    expect(await lifetime(await registerClient(tollgate.url, { access_token_ttl: 600 }))).toEqual({ expiresIn: 600, introspected: 600 });
  });

  it('follows the server’s ACCESS_TOKEN_TTL', async () => {
    const other = await startTollgate({ ACCESS_TOKEN_TTL: '120' });
    try {
      expect(await lifetime(await registerClient(other.url), other.url)).toEqual({ expiresIn: 120, introspected: 120 });
      // A client's own lifetime still wins over the server's.
      expect(await lifetime(await registerClient(other.url, { access_token_ttl: 30 }), other.url)).toEqual({ expiresIn: 30, introspected: 30 });
    } finally {
      await other.close();
    }
  });

  it('makes a token inactive once it has expired', async () => {
    const client = await registerClient(tollgate.url, { access_token_ttl: 1 });
    // Date stands still from here: exp is whole seconds, so a 1-second token issued late in a real
    // second would already be expired when it is first introspected.
    advanceClock(0);
    const token = await issue(client);
    expect((await introspect(token, auth(client))).body.active).toBe(true);
    // exp is whole seconds: past 2 s the token is expired whatever the sub-second issue time was.
    advanceClock(2200);
    await expectInactive(token, auth(client));
  });
});

describe('introspection', () => {
  let owner: RegisteredClient;
  let other: RegisteredClient;
  let resourceServer: RegisteredClient;
  let token: string;
  beforeAll(async () => {
    owner = await registerClient(tollgate.url, { scope: 'read write' });
    other = await registerClient(tollgate.url, { scope: 'read write' });
    resourceServer = await registerClient(tollgate.url, { resource_server: true });
    token = await issue(owner, 'read');
  });

  it('describes an active token to its own client', async () => {
    const response = await introspect(token, auth(owner));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toMatchObject({
      active: true,
      scope: 'read',
      client_id: owner.client_id,
      token_type: 'Bearer',
      exp: expect.any(Number),
      iat: expect.any(Number),
      iss: tollgate.url,
      sub: owner.client_id,
    });
    expect(response.body.exp).toBe((response.body.iat as number) + 300);
  });

  it('tells another ordinary client only that the token is inactive', async () => {
    await expectInactive(token, auth(other));
  });

  it('describes any client’s token to a resource server', async () => {
    const response = await introspect(token, auth(resourceServer));
    expect(response.body).toMatchObject({ active: true, client_id: owner.client_id, scope: 'read', sub: owner.client_id });
  });

  it.each([
    ['an unknown token', 'x'.repeat(43)],
    ['garbage', '%00\';--"<>'],
    // Tollgate's tokens are opaque: a JWT is just another value it did not issue.
    ['a JWT-looking value', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'],
  ])('answers exactly {"active":false} for %s', async (_name, value) => {
    await expectInactive(value, auth(resourceServer));
  });

  it('answers {"active":false} for a revoked token, even to a resource server', async () => {
    const revoked = await issue(owner);
    expect((await revoke(revoked, auth(owner))).status).toBe(200);
    await expectInactive(revoked, auth(resourceServer));
  });

  it('requires client authentication: 401 invalid_client without it', async () => {
    expectOAuthError(await postForm(tollgate.url, '/introspect', { token }), 401, 'invalid_client');
    expectOAuthError(await introspect(token, [owner.client_id, 'wrong-secret']), 401, 'invalid_client');
  });
});

describe('revocation', () => {
  it('lets the owner revoke a token, which is inactive at once', async () => {
    const owner = await registerClient(tollgate.url);
    const token = await issue(owner);
    const response = await revoke(token, auth(owner));
    expect(response.status).toBe(200);
    await expectInactive(token, auth(owner));
  });

  it('answers 200 for an unknown token', async () => {
    const client = await registerClient(tollgate.url);
    expect((await revoke('no-such-token', auth(client))).status).toBe(200);
  });

  it('answers 200 to another client but leaves the token active', async () => {
    const owner = await registerClient(tollgate.url);
    const other = await registerClient(tollgate.url);
    const token = await issue(owner);
    expect((await revoke(token, auth(other))).status).toBe(200);
    expect((await introspect(token, auth(owner))).body.active).toBe(true);
  });
});

describe('secret rotation', () => {
  const rotate = (id: string, overlap_seconds: number) => admin(tollgate.url, 'POST', `/clients/${id}/secret`, { overlap_seconds });
  const tokenStatus = async (id: string, secret: string) => (await clientCredentialsToken(tollgate.url, id, secret)).status;

  it('with no overlap, refuses the old secret at once, even straight after it was used', async () => {
    const client = await registerClient(tollgate.url);
    // Verified once, the old secret sits in the verification cache.
    expect(await tokenStatus(client.client_id, client.client_secret)).toBe(200);
    const rotated = await rotate(client.client_id, 0);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.client_secret as string;
    expect(fresh).toMatch(/^[\w-]{43,}$/);
    expect(fresh).not.toBe(client.client_secret);

    expectOAuthError(await clientCredentialsToken(tollgate.url, ...auth(client)), 401, 'invalid_client');
    expect(await tokenStatus(client.client_id, fresh)).toBe(200);

    // Shown once: reading the client back does not reveal it.
    const view = await admin(tollgate.url, 'GET', `/clients/${client.client_id}`);
    expect(view.body).not.toHaveProperty('client_secret');
    expect(JSON.stringify(view.body)).not.toContain(fresh);
  });

  it('with an overlap, accepts both secrets until the overlap ends, then only the new one', async () => {
    const client = await registerClient(tollgate.url);
    expect(await tokenStatus(client.client_id, client.client_secret)).toBe(200);
    const rotated = await rotate(client.client_id, 2);
    expect(rotated.status).toBe(200);
    const fresh = rotated.body.client_secret as string;
    expect(fresh).toMatch(/^[\w-]{43,}$/);

    expect(await tokenStatus(client.client_id, client.client_secret)).toBe(200);
    expect(await tokenStatus(client.client_id, fresh)).toBe(200);

    advanceClock(2500);
    expectOAuthError(await clientCredentialsToken(tollgate.url, ...auth(client)), 401, 'invalid_client');
    expect(await tokenStatus(client.client_id, fresh)).toBe(200);
  });
});

describe('removing a client', () => {
  let resourceServer: RegisteredClient;
  beforeAll(async () => {
    resourceServer = await registerClient(tollgate.url, { resource_server: true });
  });

  it('deleting it ends its tokens and its credentials at once', async () => {
    const client = await registerClient(tollgate.url);
    const token = await issue(client);
    expect((await admin(tollgate.url, 'DELETE', `/clients/${client.client_id}`)).status).toBe(204);
    await expectInactive(token, auth(resourceServer));
    expectOAuthError(await clientCredentialsToken(tollgate.url, ...auth(client)), 401, 'invalid_client');
    expectOAuthError(await introspect(token, auth(client)), 401, 'invalid_client');
  });

  it('disabling it ends its tokens and its credentials at once', async () => {
    const client = await registerClient(tollgate.url);
    const token = await issue(client);
    const patched = await admin(tollgate.url, 'PATCH', `/clients/${client.client_id}`, { disabled: true });
    expect(patched.status).toBe(200);
    expect(patched.body.disabled).toBe(true);
    await expectInactive(token, auth(resourceServer));
    expectOAuthError(await clientCredentialsToken(tollgate.url, ...auth(client)), 401, 'invalid_client');
    expectOAuthError(await introspect(token, auth(client)), 401, 'invalid_client');
  });
});

describe('caching', () => {
  /** RFC 6749 §5.1: no-store and, for HTTP/1.0 caches, Pragma no-cache; on every answer of the three endpoints. */
  function expectUncached(response: HttpResult, context: string) {
    expect(response.headers.get('cache-control'), context).toBe('no-store');
    expect(response.headers.get('pragma'), context).toBe('no-cache');
  }

  it('forbids caching every answer of /token, /introspect and /revoke, whoever answers it', async () => {
    const client = await registerClient(tollgate.url, { scope: 'read' });
    const postClient = await registerClient(tollgate.url, { scope: 'read', token_endpoint_auth_method: 'client_secret_post' });
    const token = await issue(client);
    const viaPost = (path: string, form: Record<string, string>) =>
      postForm(tollgate.url, path, { ...form, client_id: postClient.client_id, client_secret: postClient.client_secret });
    // Basic authentication is answered by Tollgate's own handlers, client_secret_post by the provider.
    const answers: [string, HttpResult][] = [
      ['token (handler)', await clientCredentialsToken(tollgate.url, ...auth(client))],
      ['token (provider)', await viaPost('/token', { grant_type: 'client_credentials' })],
      ['token error', await clientCredentialsToken(tollgate.url, client.client_id, 'wrong-secret')],
      ['introspection (handler)', await introspect(token, auth(client))],
      ['introspection (provider)', await viaPost('/introspect', { token })],
      ['introspection error', await postForm(tollgate.url, '/introspect', { token })],
      ['revocation (provider)', await viaPost('/revoke', { token: 'unknown' })],
      ['revocation (handler)', await revoke(token, auth(client))],
      ['revocation error', await postForm(tollgate.url, '/revoke', { token })],
    ];
    for (const [context, response] of answers) expectUncached(response, `${context}: ${response.status}`);
  });
});
