// A public client (token_endpoint_auth_method none) at the introspection and revocation endpoints,
// and what revoking one token of a sign-in ends: an access token alone, or a refresh token's grant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { clientRequest, createUser, introspector, refresh, registerAppClient, signInForTokens, type AppClient, type TestUser } from '../helpers/users.js';

let tollgate: TestTollgate;
let user: TestUser;
let app: AppClient;
let confidential: AppClient;
let introspect: (token: string) => Promise<Record<string, unknown>>;

beforeAll(async () => {
  tollgate = await startTollgate();
  user = await createUser(tollgate.url);
  app = await registerAppClient(tollgate.url);
  confidential = await registerAppClient(tollgate.url, { token_endpoint_auth_method: 'client_secret_basic' });
  introspect = await introspector(tollgate.url);
});
afterAll(() => tollgate?.close());

const post = (path: string, client: AppClient, form: Record<string, string>) => clientRequest(tollgate.url, path, client, form);
/** Both kinds of client revoke alike. */
const REVOKERS = [
  ['a public client', () => app],
  ['a confidential client', () => confidential],
] as const;

async function tokensFor(client: AppClient) {
  const { body } = await signInForTokens(tollgate.url, { client, user });
  return { access: body.access_token as string, refresh: body.refresh_token as string };
}

describe('introspection', () => {
  it('refuses a public client, which cannot authenticate (RFC 7662 §2.1), whatever the token', async () => {
    const { access, refresh: refreshToken } = await tokensFor(app);
    for (const token of [access, refreshToken, 'no-such-token']) {
      const response = await post('/introspect', app, { token });
      expect(response.status, JSON.stringify(response.body)).toBe(401);
      expect(response.body).toMatchObject({ error: 'invalid_client' });
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    expect((await introspect(access)).active).toBe(true);
  });

  it('is not advertised to public clients', async () => {
    const metadata = (await (await fetch(`${tollgate.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, string[]>;
    expect(metadata.introspection_endpoint_auth_methods_supported).not.toContain('none');
    expect(metadata.revocation_endpoint_auth_methods_supported).toContain('none');
  });
});

describe('revocation', () => {
  it.each(REVOKERS)('by %s: an access token alone ends only that token', async (_, client) => {
    const { access, refresh: refreshToken } = await tokensFor(client());
    expect((await post('/revoke', client(), { token: access })).status).toBe(200);
    expect((await introspect(access)).active).toBe(false);
    expect((await introspect(refreshToken)).active).toBe(true);
    const refreshed = await refresh(tollgate.url, client(), refreshToken);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
  });

  it.each(REVOKERS)('by %s: a refresh token ends its grant, every access token issued with it included', async (_, client) => {
    const { access, refresh: refreshToken } = await tokensFor(client());
    expect((await post('/revoke', client(), { token: refreshToken })).status).toBe(200);
    expect((await introspect(refreshToken)).active).toBe(false);
    expect((await introspect(access)).active).toBe(false);
    expect((await refresh(tollgate.url, client(), refreshToken)).status).toBe(400);
  });
});
