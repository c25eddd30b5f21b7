// NUL and other control characters wherever a caller can put text: PostgreSQL refuses NUL in text,
// so each must be refused at the edge as invalid input, never reach the database as a 500.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrowserAgent, csrfOf, pkcePair } from '../helpers/browser-agent.js';
import { admin, adminToken, basic, postForm, registerClient, type HttpResult, type RegisteredClient } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, REDIRECT_URI, registerAppClient, type AppClient } from '../helpers/users.js';

const NUL = '\u0000';

let tollgate: TestTollgate;
let token: string;
let client: RegisteredClient;
let app: AppClient;
let logged = 0;

beforeAll(async () => {
  tollgate = await startTollgate();
  token = await adminToken(tollgate.url);
  client = await registerClient(tollgate.url, { scope: 'read' });
  app = await registerAppClient(tollgate.url);
  await createUser(tollgate.url, { username: 'nul-test' });
  // From here on: start-up's own warnings (e.g. KEYS_ENCRYPTION_KEY unset on PostgreSQL) are not this file's concern.
  logged = tollgate.logs.length;
});
afterAll(() => tollgate?.close());
afterEach(async () => {
  // Nothing failed behind the answers either: no batch of audit events or tokens was lost to a NUL.
  await tollgate.running.app.audit.flush();
  const lines = tollgate.logs.slice(logged);
  logged += lines.length;
  expect(lines.filter((line) => (line.level as number) >= 40).map((line) => `${line.msg} ${JSON.stringify(line.err ?? '').slice(0, 200)}`)).toEqual([]);
});

function expectInvalid(response: HttpResult | { status: number; body: unknown }, status = 400, error = 'invalid_request') {
  const context = JSON.stringify(response.body);
  expect(response.status, context).toBe(status);
  expect((response.body as Record<string, unknown>).error, context).toBe(error);
}

describe('the admin API', () => {
  it.each([
    ['client_name', { client_name: `a${NUL}b` }],
    ['redirect_uris', { grant_types: ['authorization_code'], redirect_uris: [`https://app.example/cb${NUL}`] }],
    ['client_id', { client_id: `a${NUL}` }],
    ['scope', { scope: `read${NUL}` }],
  ])('refuses a client whose %s holds NUL', async (field, body) => {
    const response = await admin(tollgate.url, 'POST', '/clients', { client_name: 'x', ...body }, token);
    expectInvalid(response);
    expect(response.body.field).toMatch(new RegExp(`^${field}`));
  });

  it('refuses a client name with other control characters, on update too', async () => {
    for (const name of [`a${NUL}b`, 'a\u0007b', 'a\u007fb']) {
      const response = await admin(tollgate.url, 'PATCH', `/clients/${client.client_id}`, { client_name: name }, token);
      expectInvalid(response);
      expect(response.body.field).toBe('client_name');
    }
  });

  it.each([
    ['username', { username: `nul${NUL}user` }],
    ['email', { email: `a${NUL}@example.com` }],
    ['password', { password: `correct horse${NUL} battery` }],
  ])('refuses a user whose %s holds NUL', async (field, body) => {
    const response = await admin(tollgate.url, 'POST', '/users', { username: 'someone', password: 'correct horse battery staple', ...body }, token);
    expectInvalid(response);
    expect(response.body.field).toBe(field);
  });

  it.each(['client_id', 'subject', 'actor', 'grant_id', 'request_id', 'type'])('refuses an audit filter %s holding NUL', async (name) => {
    const response = await admin(tollgate.url, 'GET', `/audit?${name}=a%00b`, undefined, token);
    expectInvalid(response);
    expect(response.body.field).toMatch(new RegExp(`^${name}`));
  });

  it.each(['/clients/a%00b', '/users/a%00b', '/clients?cursor=a%00', '/users?cursor=a%00'])('answers %s without a 500', async (path) => {
    const response = await admin(tollgate.url, 'GET', path, undefined, token);
    expect([400, 404], JSON.stringify(response.body)).toContain(response.status);
  });
});

describe('the token endpoints', () => {
  it.each([
    ['/token', { grant_type: 'client_credentials', scope: `read${NUL}` }],
    ['/token', { grant_type: `client${NUL}credentials` }],
    ['/token', { grant_type: 'authorization_code', code: `abc${NUL}`, redirect_uri: REDIRECT_URI }],
    ['/token', { grant_type: 'refresh_token', refresh_token: `abc${NUL}` }],
    ['/introspect', { token: `abc${NUL}` }],
    ['/revoke', { token: `abc${NUL}` }],
  ])('%s answers NUL in a parameter without a 500', async (path, form) => {
    const response = await postForm(tollgate.url, path, form, [client.client_id, client.client_secret]);
    expect(response.status, JSON.stringify(response.body)).toBeLessThan(500);
  });

  it.each(['/token', '/introspect', '/revoke'])('%s answers NUL in the client id without a 500', async (path) => {
    const form: Record<string, string> = path === '/token' ? { grant_type: 'client_credentials' } : { token: 'abc' };
    for (const response of [
      await postForm(tollgate.url, path, { ...form, client_id: `a${NUL}`, client_secret: 'x' }),
      await postForm(tollgate.url, path, { ...form, client_id: `a${NUL}` }),
      await fetch(`${tollgate.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(`a${NUL}`, 'x') },
        body: new URLSearchParams(form).toString(),
      }).then(async (r) => ({ status: r.status, body: await r.json() })),
    ]) {
      expect(response.status, JSON.stringify(response.body)).toBeLessThan(500);
    }
  });
});

describe('the sign-in pages', () => {
  it('answer NUL in the authorization request without a 500', async () => {
    const agent = new BrowserAgent(tollgate.url);
    const { challenge } = pkcePair();
    const base = {
      client_id: app.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'read',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    for (const params of <Record<string, string>[]>[
      { client_id: `a${NUL}` },
      { state: `x${NUL}` },
      { login_hint: `a${NUL}` },
      { scope: `read${NUL}` },
      { redirect_uri: `${REDIRECT_URI}${NUL}` },
    ]) {
      const page = await agent.follow(`/auth?${new URLSearchParams({ ...base, ...params })}`);
      expect(page.status, `${JSON.stringify(params)}: ${page.text.slice(0, 200)}`).toBeLessThan(500);
    }
  });

  it('answer NUL in the sign-in form without a 500', async () => {
    const agent = new BrowserAgent(tollgate.url);
    const { challenge } = pkcePair();
    const query = new URLSearchParams({
      client_id: app.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: 'read',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const page = await agent.follow(`/auth?${query}`);
    const uid = /action="\/interaction\/([\w-]+)\/login"/.exec(page.text)![1]!;
    for (const form of [
      { login: `nul-test${NUL}`, password: 'x' },
      { login: 'nul-test', password: `x${NUL}` },
    ]) {
      const answer = await agent.post(`/interaction/${uid}/login`, { csrf: csrfOf(page.text), ...form });
      expect(answer.status, answer.text.slice(0, 200)).toBeLessThan(500);
    }
    const answer = await agent.get(`/interaction/a%00b`);
    expect(answer.status).toBeLessThan(500);
  });
});
