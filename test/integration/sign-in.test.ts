// The authorization code flow through Tollgate's sign-in and consent pages, driven over HTTP: the
// pages' headers, remembered consent, and every kind of bad input the forms and endpoints get.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorize, BrowserAgent, csrfOf, pkcePair } from '../helpers/browser-agent.js';
import { admin } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, PASSWORD, REDIRECT_URI, registerAppClient, tokenRequest, type AppClient, type TestUser } from '../helpers/users.js';

let tollgate: TestTollgate;
let user: TestUser;
let client: AppClient;

beforeAll(async () => {
  tollgate = await startTollgate();
  user = await createUser(tollgate.url, { email: 'Sam@Example.com' });
  client = await registerAppClient(tollgate.url);
});
afterAll(() => tollgate?.close());

function authorizeUrl(params: Record<string, string | undefined> = {}) {
  const { challenge } = pkcePair();
  const query = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'read',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'xyz',
  });
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) query.delete(key);
    else query.set(key, value);
  }
  return `/auth?${query}`;
}

/** Opens the login page of a new authorization: the agent, the page and its interaction id. */
async function loginPage(params: Record<string, string | undefined> = {}) {
  const agent = new BrowserAgent(tollgate.url);
  const page = await agent.follow(authorizeUrl(params));
  const uid = /action="\/interaction\/([\w-]+)\/login"/.exec(page.text)?.[1];
  return { agent, page, uid: uid! };
}

const titleOf = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];
const alertOf = (html: string) => /role="alert">([^<]*)</.exec(html)?.[1];

describe('the pages', () => {
  it('are accessible HTML with a strict policy, never cached', async () => {
    const { page } = await loginPage();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    // The post ends at the client's redirect_uri, which form-action must allow (Chrome checks redirects).
    expect(csp).toContain("form-action 'self' http://127.0.0.1:9");
    expect(csp).not.toContain('script-src');
    expect(page.text).toContain('<html lang="en">');
    expect(page.text).toMatch(/<label for="login">[^<]+<\/label>\s*<input id="login"/);
    expect(page.text).toMatch(/<label for="password">[^<]+<\/label>\s*<input id="password"[^>]*autocomplete="current-password"/);
    expect(page.text).toContain('Test App');
    // Nothing from anywhere else.
    expect(page.text).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serve their stylesheet themselves', async () => {
    const response = await fetch(`${tollgate.url}/assets/tollgate.css`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await response.text()).toContain('.card');
  });

  it('escape what they show', async () => {
    const hostile = await registerAppClient(tollgate.url, { client_name: '<script>alert(1)</script>' });
    const agent = new BrowserAgent(tollgate.url);
    const page = await agent.follow(authorizeUrl({ client_id: hostile.client_id, login_hint: '"><img src=x>' }));
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('value="&quot;&gt;&lt;img src=x&gt;"');
  });
});

describe('signing in', () => {
  it('runs the whole flow: sign in, consent, code, tokens', async () => {
    const flow = await authorize(tollgate.url, {
      clientId: client.client_id,
      redirectUri: REDIRECT_URI,
      scope: 'read write',
      login: user.username,
      password: PASSWORD,
      remember: false,
    });
    expect(flow.redirect?.origin + flow.redirect!.pathname).toBe(REDIRECT_URI);
    expect(flow.redirect!.searchParams.get('state')).toBe(flow.state);
    // RFC 9207: the issuer is named in the response.
    expect(flow.redirect!.searchParams.get('iss')).toBe(tollgate.url);
    const tokens = await tokenRequest(tollgate.url, client, {
      grant_type: 'authorization_code',
      code: flow.code!,
      redirect_uri: REDIRECT_URI,
      code_verifier: flow.verifier,
    });
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'read write', refresh_token: expect.any(String) });
  });

  it('accepts the email address, in any case, instead of the username', async () => {
    const flow = await authorize(tollgate.url, { clientId: client.client_id, redirectUri: REDIRECT_URI, login: 'sam@EXAMPLE.com', password: PASSWORD });
    expect(flow.code).toEqual(expect.any(String));
  });

  it('says the same for an unknown user and a wrong password, and keeps what was typed', async () => {
    const { agent, page, uid } = await loginPage();
    const wrong = await agent.post(`/interaction/${uid}/login`, { csrf: csrfOf(page.text), login: user.username, password: 'not the password' });
    const unknown = await agent.post(`/interaction/${uid}/login`, { csrf: csrfOf(page.text), login: 'nobody-here', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(alertOf(wrong.text)).toBe('The username or password is incorrect.');
    expect(alertOf(unknown.text)).toBe(alertOf(wrong.text));
    expect(wrong.text).toContain(`value="${user.username}"`);
    expect(wrong.text).toContain('aria-invalid="true"');
    // Still usable: the right password now works.
    const right = await agent.post(`/interaction/${uid}/login`, { csrf: csrfOf(wrong.text), login: user.username, password: PASSWORD });
    expect(right.status).toBe(303);
    const failures = tollgate.logs.filter((line) => line.securityEvent === 'user.login_failed');
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(tollgate.rawLogs()).not.toContain('not the password');
  });

  it('tells a disabled user so, but only once the password is right', async () => {
    const disabled = await createUser(tollgate.url, { disabled: true });
    const { agent, page, uid } = await loginPage();
    const wrong = await agent.post(`/interaction/${uid}/login`, { csrf: csrfOf(page.text), login: disabled.username, password: 'wrong password' });
    expect(alertOf(wrong.text)).toBe('The username or password is incorrect.');
    const right = await agent.post(`/interaction/${uid}/login`, { csrf: csrfOf(page.text), login: disabled.username, password: PASSWORD });
    expect(right.status).toBe(403);
    expect(alertOf(right.text)).toMatch(/disabled/);
  });

  it('asks for the password again with prompt=login, and lets someone else sign in instead', async () => {
    const app = await registerAppClient(tollgate.url);
    const [first, second] = [await createUser(tollgate.url), await createUser(tollgate.url)];
    const agent = new BrowserAgent(tollgate.url);
    const run = (who: TestUser, extra?: Record<string, string>) =>
      authorize(tollgate.url, { agent, clientId: app.client_id, redirectUri: REDIRECT_URI, login: who.username, password: PASSWORD, extra });
    const exchange = async (flow: Awaited<ReturnType<typeof run>>) =>
      (await tokenRequest(tollgate.url, app, { grant_type: 'authorization_code', code: flow.code!, redirect_uri: REDIRECT_URI, code_verifier: flow.verifier }))
        .body;
    const introspectSub = async (token: string) => {
      const rs = (await admin(tollgate.url, 'POST', '/clients', { resource_server: true })).body as { client_id: string; client_secret: string };
      const { postForm } = await import('../helpers/oauth.js');
      return (await postForm(tollgate.url, '/introspect', { token }, [rs.client_id, rs.client_secret])).body.sub;
    };

    expect(await introspectSub((await exchange(await run(first))).access_token as string)).toBe(first.id);
    // Same browser, prompt=login, the other user: the code is theirs...
    expect(await introspectSub((await exchange(await run(second, { prompt: 'login' }))).access_token as string)).toBe(second.id);
    // ...and the browser is now signed in as them, with no password asked.
    const silent = await run(first, { prompt: 'none' }).catch(() => undefined);
    expect(silent?.code).toBeDefined();
    expect(await introspectSub((await exchange(silent!)).access_token as string)).toBe(second.id);
  });

  it('sends the user back to the application on cancel', async () => {
    const { agent, page, uid } = await loginPage();
    const cancelled = await agent.post(`/interaction/${uid}/abort`, { csrf: csrfOf(page.text) });
    const back = await agent.follow(cancelled.location!);
    const redirect = new URL(back.location!);
    expect(redirect.searchParams.get('error')).toBe('access_denied');
    expect(redirect.searchParams.get('state')).toBe('xyz');
  });

  it('reports access_denied when the user denies consent', async () => {
    const app = await registerAppClient(tollgate.url);
    const flow = await authorize(tollgate.url, {
      clientId: app.client_id,
      redirectUri: REDIRECT_URI,
      login: user.username,
      password: PASSWORD,
      consent: 'deny',
    });
    expect(flow.redirect!.searchParams.get('error')).toBe('access_denied');
    expect(flow.code).toBeUndefined();
  });
});

describe('consent', () => {
  it('is remembered per client and scope set, asked again for more, and revocable by the admin API', async () => {
    const app = await registerAppClient(tollgate.url);
    const person = await createUser(tollgate.url);
    const agent = new BrowserAgent(tollgate.url);
    const as = (scope: string, consent?: 'allow' | 'none', extra?: Record<string, string>) =>
      authorize(tollgate.url, { agent, clientId: app.client_id, redirectUri: REDIRECT_URI, scope, login: person.username, password: PASSWORD, consent, extra });

    expect((await as('read write')).code).toBeDefined();
    // Signed in and consented: straight back with a code, for the same scopes or fewer.
    expect((await as('read', 'none')).code).toBeDefined();
    expect((await as('read write', 'none')).code).toBeDefined();
    // More than was consented to: asked again. prompt=consent always asks.
    await expect(as('read write openid', 'none')).rejects.toThrow(/unexpected consent page/);
    await expect(as('read', 'none', { prompt: 'consent' })).rejects.toThrow(/unexpected consent page/);

    const listed = await admin(tollgate.url, 'GET', `/users/${person.id}/consents`);
    expect(listed.body.consents).toEqual([expect.objectContaining({ client_id: app.client_id, scope: 'read write' })]);

    const tokens = await tokenRequest(tollgate.url, app, {
      grant_type: 'authorization_code',
      code: (await as('read', 'none')).code!,
      redirect_uri: REDIRECT_URI,
      code_verifier: '',
    });
    expect(tokens.status).toBe(400);

    const flow = await as('read', 'none');
    const issued = await tokenRequest(tollgate.url, app, {
      grant_type: 'authorization_code',
      code: flow.code!,
      redirect_uri: REDIRECT_URI,
      code_verifier: flow.verifier,
    });
    expect(issued.status).toBe(200);

    expect((await admin(tollgate.url, 'DELETE', `/users/${person.id}/consents/${app.client_id}`)).status).toBe(204);
    expect((await admin(tollgate.url, 'GET', `/users/${person.id}/consents`)).body.consents).toEqual([]);
    // Revoking consent ended the tokens it had allowed, and the next sign-in asks again.
    const refreshed = await tokenRequest(tollgate.url, app, { grant_type: 'refresh_token', refresh_token: issued.body.refresh_token as string });
    expect(refreshed.body.error).toBe('invalid_grant');
    await expect(as('read', 'none')).rejects.toThrow(/unexpected consent page/);
    expect((await admin(tollgate.url, 'DELETE', `/users/${person.id}/consents/${app.client_id}`)).status).toBe(404);
  });

  it('is not remembered when the user unticks the box', async () => {
    const app = await registerAppClient(tollgate.url);
    const agent = new BrowserAgent(tollgate.url);
    await authorize(tollgate.url, { agent, clientId: app.client_id, redirectUri: REDIRECT_URI, login: user.username, password: PASSWORD, remember: false });
    await expect(
      authorize(tollgate.url, { agent, clientId: app.client_id, redirectUri: REDIRECT_URI, login: user.username, password: PASSWORD, consent: 'none' }),
    ).rejects.toThrow(/unexpected consent page/);
  });
});

describe('bad input on the forms', () => {
  it('refuses a post without the CSRF token, or with a wrong one, with 403', async () => {
    const { agent, uid } = await loginPage();
    const missing = await agent.post(`/interaction/${uid}/login`, { login: user.username, password: PASSWORD });
    const wrong = await agent.post(`/interaction/${uid}/login`, { csrf: 'A'.repeat(43), login: user.username, password: PASSWORD });
    const duplicated = await agent.post(`/interaction/${uid}/login?`, { csrf: 'x', login: user.username, password: PASSWORD });
    for (const answer of [missing, wrong, duplicated]) {
      expect(answer.status).toBe(403);
      expect(titleOf(answer.text)).toBe('Form expired');
      expect(answer.headers.get('content-type')).toContain('text/html');
    }
  });

  it('refuses a token from another interaction', async () => {
    const first = await loginPage();
    const second = await loginPage();
    const crossed = await second.agent.post(`/interaction/${second.uid}/login`, { csrf: csrfOf(first.page.text), login: user.username, password: PASSWORD });
    expect(crossed.status).toBe(403);
  });

  it('refuses a form posted from a browser without the interaction cookie', async () => {
    const { page, uid } = await loginPage();
    const stranger = new BrowserAgent(tollgate.url);
    const answer = await stranger.post(`/interaction/${uid}/login`, { csrf: csrfOf(page.text), login: user.username, password: PASSWORD });
    expect(answer.status).toBe(400);
    expect(titleOf(answer.text)).toBe('Sign-in expired');
  });

  it('answers an unknown or malformed interaction id with a page, not an error dump', async () => {
    const agent = new BrowserAgent(tollgate.url);
    for (const path of ['/interaction/doesnotexist', `/interaction/${'x'.repeat(200)}`, '/interaction/%00', '/interaction/a%2Fb']) {
      const answer = await agent.get(path);
      expect(answer.status, path).toBeGreaterThanOrEqual(400);
      expect(answer.status, path).toBeLessThan(500);
    }
    const unknown = await agent.get('/interaction/doesnotexist');
    expect(titleOf(unknown.text)).toBe('Sign-in expired');
    expect(unknown.text).toContain('Go back to the application');
  });

  it('says clearly when the sign-in page has expired', async () => {
    const { agent, page, uid } = await loginPage();
    // An interaction past its lifetime is gone from the store, as the cleanup would leave it.
    await tollgate.db.prisma.oidcPayload.deleteMany({ where: { model: 'Interaction' } });
    const answer = await agent.post(`/interaction/${uid}/login`, { csrf: csrfOf(page.text), login: user.username, password: PASSWORD });
    expect(answer.status).toBe(400);
    expect(titleOf(answer.text)).toBe('Sign-in expired');
    expect((await agent.get(`/interaction/${uid}`)).status).toBe(400);
  });

  it('copes with oversized, repeated and odd fields', async () => {
    const { agent, page, uid } = await loginPage();
    const csrf = csrfOf(page.text);
    const long = await agent.post(`/interaction/${uid}/login`, { csrf, login: 'a'.repeat(5000), password: 'b'.repeat(5000) });
    expect(long.status).toBe(401);
    const tooBig = await agent.post(`/interaction/${uid}/login`, { csrf, login: user.username, password: 'c'.repeat(20_000) });
    expect(tooBig.status).toBe(413);
    const repeated = await fetch(`${tollgate.url}/interaction/${uid}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      body: `csrf=${csrf}&login=a&login=b&password[x]=y`,
    });
    expect(repeated.status).toBe(401);
    const json = await fetch(`${tollgate.url}/interaction/${uid}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    const control = await agent.post(`/interaction/${uid}/login`, { csrf, login: 'a\u0000b', password: '\u0000' });
    expect(control.status).toBe(401);
  });
});

describe('bad input at the authorization and token endpoints', () => {
  it('shows a page, and does not redirect, for a redirect_uri that is not registered exactly', async () => {
    const agent = new BrowserAgent(tollgate.url);
    for (const redirect_uri of [`${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, 'http://127.0.0.1:9/callbacK', 'https://evil.example/callback']) {
      const answer = await agent.get(authorizeUrl({ redirect_uri }));
      expect(answer.status, redirect_uri).toBe(400);
      expect(answer.location).toBeUndefined();
      expect(titleOf(answer.text)).toBe('Sign-in request refused');
    }
    const missing = await agent.get(authorizeUrl({ redirect_uri: undefined }));
    expect(missing.status).toBe(400);
    expect(missing.location).toBeUndefined();
  });

  it('shows a page for an unknown client', async () => {
    const answer = await new BrowserAgent(tollgate.url).get(authorizeUrl({ client_id: 'no-such-client' }));
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('invalid_client');
  });

  it('sends protocol errors back to the client', async () => {
    const agent = new BrowserAgent(tollgate.url);
    const cases: [Record<string, string | undefined>, string][] = [
      [{ code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge: 'short' }, 'invalid_request'],
      [{ scope: 'read admin' }, 'invalid_scope'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
    ];
    for (const [params, error] of cases) {
      const answer = await agent.get(authorizeUrl(params));
      expect(answer.status, JSON.stringify(params)).toBe(303);
      const redirect = new URL(answer.location!);
      expect(redirect.origin + redirect.pathname).toBe(REDIRECT_URI);
      // A front-channel response type gets its error in the fragment.
      const response = params.response_type === 'token' ? new URLSearchParams(redirect.hash.slice(1)) : redirect.searchParams;
      expect(response.get('error'), JSON.stringify(params)).toBe(error);
      expect(response.get('state')).toBe('xyz');
    }
  });

  it('refuses a tampered PKCE verifier, a changed redirect_uri and another client’s code', async () => {
    const flow = await authorize(tollgate.url, { clientId: client.client_id, redirectUri: REDIRECT_URI, login: user.username, password: PASSWORD });
    const exchange = (form: Record<string, string>, as: AppClient = client) =>
      tokenRequest(tollgate.url, as, { grant_type: 'authorization_code', code: flow.code!, redirect_uri: REDIRECT_URI, code_verifier: flow.verifier, ...form });
    const other = await registerAppClient(tollgate.url);
    const refused = [
      await exchange({ code_verifier: `${flow.verifier.slice(0, -1)}${flow.verifier.endsWith('A') ? 'B' : 'A'}` }),
      await exchange({ code_verifier: pkcePair().verifier }),
      await exchange({ code_verifier: '' }),
      await exchange({ redirect_uri: `${REDIRECT_URI}/other` }),
      await exchange({}, other),
    ];
    for (const answer of refused) {
      expect(answer.status).toBe(400);
      expect(['invalid_grant', 'invalid_request']).toContain(answer.body.error);
    }
    // None of those was a use of the code: the right request still works.
    expect((await exchange({})).status).toBe(200);
  });

  it('requires a redirect URI for the code flow and keeps public clients public', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ grant_types: ['authorization_code'], redirect_uris: [] }, 'redirect_uris'],
      [{ grant_types: ['refresh_token'] }, 'grant_types'],
      [{ token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] }, 'token_endpoint_auth_method'],
      [{ redirect_uris: ['http://app.example/cb'] }, 'redirect_uris.0'],
      [{ refresh_token_reuse_grace: 61 }, 'refresh_token_reuse_grace'],
      [{ refresh_token_idle_ttl: 10 }, 'refresh_token_idle_ttl'],
    ];
    for (const [body, field] of cases) {
      const answer = await admin(tollgate.url, 'POST', '/clients', { grant_types: ['authorization_code'], redirect_uris: [REDIRECT_URI], ...body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.field).toBe(field);
    }
    const publicClient = await registerAppClient(tollgate.url);
    expect(publicClient).not.toHaveProperty('client_secret');
    expect((await admin(tollgate.url, 'POST', `/clients/${publicClient.client_id}/secret`, {})).status).toBe(409);
    expect((await admin(tollgate.url, 'PATCH', `/clients/${publicClient.client_id}`, { token_endpoint_auth_method: 'client_secret_basic' })).status).toBe(409);
    expect((await admin(tollgate.url, 'PATCH', `/clients/${publicClient.client_id}`, { redirect_uris: [] })).body.field).toBe('redirect_uris');
  });
});

describe('discovery', () => {
  it('advertises the code flow exactly as served', async () => {
    const metadata = (await (await fetch(`${tollgate.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      authorization_endpoint: `${tollgate.url}/auth`,
      grant_types_supported: ['client_credentials', 'authorization_code', 'refresh_token'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      authorization_response_iss_parameter_supported: true,
      dpop_signing_alg_values_supported: expect.arrayContaining(['ES256']),
    });
  });
});

describe('failed sign-ins', () => {
  it('past RATE_LIMIT_LOGIN_FAILURES_PER_USER make the address wait, with a page that says how long (test/integration/sign-in-throttle.test.ts has the rest)', async () => {
    const limited = await startTollgate({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_LOGIN_FAILURES_PER_USER: '2' });
    try {
      const person = await createUser(limited.url);
      const app = await registerAppClient(limited.url);
      const agent = new BrowserAgent(limited.url);
      const { challenge } = pkcePair();
      const page = await agent.follow(
        `/auth?${new URLSearchParams({ client_id: app.client_id, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' })}`,
      );
      const uid = /action="\/interaction\/([\w-]+)\/login"/.exec(page.text)![1]!;
      const attempt = (password: string) =>
        agent.post(`/interaction/${uid}/login`, { csrf: csrfOf(page.text), login: person.username.toUpperCase(), password });
      expect((await attempt('wrong one')).status).toBe(401);
      expect((await attempt('wrong two')).status).toBe(401);
      const refused = await attempt(PASSWORD);
      expect(refused.status).toBe(429);
      expect(titleOf(refused.text)).toBe('Too many attempts');
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(alertOf(refused.text)).toBe('Too many failed sign-ins. Wait 1 second and try again.');
    } finally {
      await limited.close();
    }
  });
});
