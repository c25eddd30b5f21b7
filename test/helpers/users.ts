// Users, sign-in clients and their tokens for tests of the authorization code flow.
import { randomBytes } from 'node:crypto';
import { authorize, type AuthorizeOptions } from './browser-agent.js';
import { admin, basic, postForm, type HttpResult } from './oauth.js';

export const PASSWORD = 'correct horse battery staple';
/** Nothing listens there: the flow stops at the redirect, as a test reads the code from it. */
export const REDIRECT_URI = 'http://127.0.0.1:9/callback';

export interface TestUser {
  id: string;
  username: string;
}

export interface AppClient {
  client_id: string;
  client_secret?: string;
  [key: string]: unknown;
}

export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function createUser(base: string, fields: Record<string, unknown> = {}): Promise<TestUser> {
  const response = await admin(base, 'POST', '/users', { username: uniqueName('user'), password: PASSWORD, ...fields });
  if (response.status !== 201) throw new Error(`create user: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as unknown as TestUser;
}

/** A public sign-in client (no secret, PKCE) with refresh tokens, unless `metadata` says otherwise. */
export async function registerAppClient(base: string, metadata: Record<string, unknown> = {}): Promise<AppClient> {
  const response = await admin(base, 'POST', '/clients', {
    client_name: 'Test App',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: [REDIRECT_URI],
    scope: 'read write',
    default_scope: 'read',
    ...metadata,
  });
  if (response.status !== 201) throw new Error(`register client: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as AppClient;
}

/** POSTs to the token endpoint as `client`: client_id in the body for a public client, Basic auth otherwise. */
export function tokenRequest(base: string, client: AppClient, form: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpResult> {
  return clientRequest(base, '/token', client, form, headers);
}

/** POSTs a form to `path` as `client`, authenticating as tokenRequest does. */
export function clientRequest(
  base: string,
  path: string,
  client: AppClient,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(client.client_secret ? { authorization: basic(client.client_id, client.client_secret) } : {}),
      ...headers,
    },
    body: new URLSearchParams({ ...(client.client_secret ? {} : { client_id: client.client_id }), ...form }).toString(),
  }).then(async (response) => {
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  });
}

export const refresh = (base: string, client: AppClient, refreshToken: string, extra: Record<string, string> = {}) =>
  tokenRequest(base, client, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });

export interface SignInOptions extends Partial<AuthorizeOptions> {
  client: AppClient;
  user: TestUser;
}

/** Signs `user` in through the pages and exchanges the code: the token response. */
export async function signInForTokens(base: string, { client, user, ...options }: SignInOptions): Promise<HttpResult> {
  const flow = await authorize(base, {
    clientId: client.client_id,
    redirectUri: REDIRECT_URI,
    scope: 'read',
    login: user.username,
    password: PASSWORD,
    ...options,
  });
  if (!flow.code) throw new Error(`no code: ${flow.page.status} ${flow.page.location} ${flow.page.text.slice(0, 300)}`);
  const tokens = await tokenRequest(base, client, {
    grant_type: 'authorization_code',
    code: flow.code,
    redirect_uri: REDIRECT_URI,
    code_verifier: flow.verifier,
  });
  if (tokens.status !== 200) throw new Error(`code exchange: ${tokens.status} ${JSON.stringify(tokens.body)}`);
  return tokens;
}

/** Introspects as a resource server (which may see every token). */
export async function introspector(base: string) {
  const response = await admin(base, 'POST', '/clients', { client_name: 'resource server', resource_server: true });
  const { client_id: id, client_secret: secret } = response.body as { client_id: string; client_secret: string };
  return async (token: string) => (await postForm(base, '/introspect', { token }, [id, secret])).body;
}
