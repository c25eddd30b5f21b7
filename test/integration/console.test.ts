// The web console over HTTP: who gets in, the headers every page carries, and forms refused
// without the session's CSRF token. test/browser/console.test.ts drives every page in Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserAgent, csrfOf } from '../helpers/browser-agent.js';
import { signInToConsole } from '../helpers/console.js';
import { admin } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, PASSWORD, type TestUser } from '../helpers/users.js';

let tollgate: TestTollgate;
let administrator: TestUser;
let base: string;

beforeAll(async () => {
  tollgate = await startTollgate();
  base = tollgate.url;
  administrator = await createUser(base, { username: 'root-admin', admin: true });
});
afterAll(() => tollgate?.close());

type FormCase = [path: string, form: Record<string, string>, status: number, text: string];

/** Posts each form and expects an HTML page with its status, naming the problem. */
async function expectPages(agent: BrowserAgent, cases: FormCase[]) {
  for (const [path, form, status, text] of cases) {
    const answer = await agent.post(`${base}${path}`, form);
    expect([path, answer.status]).toEqual([path, status]);
    expect(answer.headers.get('content-type')).toContain('text/html');
    expect(answer.text).toContain(text);
  }
}

describe('the web console', () => {
  it('sends a visitor without a session to sign in, with a strict CSP', async () => {
    const agent = new BrowserAgent(base);
    const page = await agent.get(`${base}/console/clients`);
    expect(page.status).toBe(302);
    expect(page.location).toBe(`${base}/console/login`);
    expect(page.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    const login = await agent.get(page.location!);
    expect(login.status).toBe(302);
    const authorization = new URL(login.location!);
    expect(authorization.pathname).toBe('/auth');
    expect(authorization.searchParams.get('client_id')).toBe('tollgate-console');
    expect(authorization.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorization.searchParams.get('prompt')).toBe('login');
    const cookie = login.headers.getSetCookie().find((c) => c.startsWith('tollgate_console_login='));
    expect(cookie).toMatch(/; path=\/console; .*samesite=strict; httponly/i);
  });

  it('signs an administrator in with a session cookie, and out again', async () => {
    const { agent, page } = await signInToConsole(base, administrator.username, PASSWORD);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Dashboard</h1>');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    // Only the session's hash is stored.
    const value = agent.cookies.get('tollgate_console')!;
    const rows = await tollgate.db.prisma.consoleSession.findMany({ where: { userId: administrator.id } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).not.toBe(value);
    // The code's access token served only to learn who signed in.
    const audit = await admin(base, 'GET', `/audit?type=token.issued&client_id=tollgate-console`);
    expect((audit.body.events as unknown[]).length).toBeGreaterThan(0);

    const out = await agent.post(`${base}/console/logout`, { csrf: csrfOf(page.text) });
    expect(out.status).toBe(303);
    expect(agent.cookies.has('tollgate_console')).toBe(false);
    expect(await tollgate.db.prisma.consoleSession.count({ where: { userId: administrator.id } })).toBe(0);
    // The old cookie is worth nothing now.
    const replay = new BrowserAgent(base);
    replay.cookies.set('tollgate_console', value);
    expect((await replay.get(`${base}/console/`)).status).toBe(302);
  });

  it('refuses a user without the admin role with a clear 403 page', async () => {
    const user = await createUser(base, { username: 'not-admin' });
    const { agent, page } = await signInToConsole(base, user.username, PASSWORD);
    expect(page.status).toBe(403);
    expect(page.text).toContain('Not an administrator');
    expect(agent.cookies.has('tollgate_console')).toBe(false);
  });

  it("refuses a form without the session's CSRF token, and a session of a user no longer admin", async () => {
    const { agent, page } = await signInToConsole(base, administrator.username, PASSWORD);
    const forged = await agent.post(`${base}/console/logout`, { csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('Form expired');
    const missing = await agent.post(`${base}/console/logout`, {});
    expect(missing.status).toBe(403);
    // Another session's token does not fit this one.
    const other = await signInToConsole(base, administrator.username, PASSWORD);
    expect((await agent.post(`${base}/console/logout`, { csrf: csrfOf(other.page.text) })).status).toBe(403);
    expect((await agent.get(`${base}/console/`)).status).toBe(200);

    await admin(base, 'PATCH', `/users/${administrator.id}`, { admin: false });
    expect((await agent.get(`${base}/console/`)).status).toBe(302);
    expect((await agent.post(`${base}/console/logout`, { csrf: csrfOf(page.text) })).status).toBe(401);
    await admin(base, 'PATCH', `/users/${administrator.id}`, { admin: true });
  });

  it('answers a callback that did not start in this browser, and an unknown page, with pages', async () => {
    const agent = new BrowserAgent(base);
    const callback = await agent.get(`${base}/console/callback?code=x&state=y`);
    expect(callback.status).toBe(400);
    expect(callback.headers.get('content-type')).toContain('text/html');
    expect(callback.text).toContain('Sign-in expired');
    const { agent: signedIn } = await signInToConsole(base, administrator.username, PASSWORD);
    const missing = await signedIn.get(`${base}/console/no-such-page`);
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('There is no such page');
    const range = await signedIn.get(`${base}/console/?range=year`);
    expect(range.status).toBe(400);
    expect(range.text).toContain('range: must be one of hour, day, week');
    const dashboard = await signedIn.get(`${base}/console/?range=week`);
    expect(dashboard.status).toBe(200);
    expect(dashboard.text.match(/<svg /g)).toHaveLength(4);
    // Nothing inline for the CSP to refuse: no script, style or handler in the page.
    expect(dashboard.text).not.toMatch(/<script>|<style|style="|\son\w+=/);
  });

  it('answers bad client and user forms with 4xx pages, and keeps its own client', async () => {
    const { agent, page } = await signInToConsole(base, administrator.username, PASSWORD);
    const csrf = csrfOf(page.text);
    const cases: FormCase[] = [
      ['/console/clients', { csrf, client_id: 'bad id!', scope: 'a' }, 400, 'client_id: must be 1-64 of'],
      ['/console/clients', { csrf, 'grant_types[x]': 'client_credentials' }, 400, 'must be a plain form field'],
      ['/console/clients', { csrf, grant_types: 'implicit' }, 400, 'grant_types'],
      [
        '/console/clients/tollgate-console',
        { csrf, grant_types: 'authorization_code', redirect_uris: 'https://x.example/cb', token_endpoint_auth_method: 'none' },
        409,
        'cannot be changed',
      ],
      ['/console/clients/tollgate-console/delete', { csrf }, 409, 'cannot be deleted'],
      ['/console/clients/no-such-client/secret', { csrf, overlap_seconds: '5' }, 404, 'client no-such-client not found'],
      ['/console/clients/no-such-client/enabled', { csrf, enabled: 'no' }, 404, 'not found'],
      ['/console/clients/x\u0000/delete', { csrf }, 404, 'not found'],
      ['/console/users', { csrf, username: 'UPPER case', password: PASSWORD }, 400, 'username: must be 1-64 of'],
      ['/console/users', { csrf, username: administrator.username, password: PASSWORD }, 409, 'is taken'],
      [`/console/users/${administrator.id}/enabled`, { csrf, enabled: 'no' }, 409, 'you cannot disable yourself'],
      [`/console/users/${administrator.id}/admin`, { csrf, admin: 'no' }, 409, 'take your own admin role'],
      [`/console/users/${administrator.id}/password`, { csrf, password: 'short' }, 400, 'password: must be at least 8 characters'],
      ['/console/users/not-a-user/consents/x/revoke', { csrf }, 404, 'user not-a-user not found'],
    ];
    await expectPages(agent, cases);
    const json = await fetch(`${base}/console/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `tollgate_console=${agent.cookies.get('tollgate_console')}` },
      body: '{}',
    });
    expect(json.status).toBe(415);
  });

  it('refuses resource-server and key forms without the CSRF token, and changes nothing', async () => {
    const { agent } = await signInToConsole(base, administrator.username, PASSWORD);
    const server = await admin(base, 'POST', '/resource-servers', { identifier: 'https://csrf.example', name: 'CSRF target' });
    const keysBefore = await tollgate.db.prisma.providerKey.count();
    const forms: [string, Record<string, string>][] = [
      ['/console/resource-servers', { identifier: 'https://forged.example', name: 'Forged' }],
      [`/console/resource-servers/${server.body.id}`, { identifier: 'https://csrf.example', name: 'Renamed' }],
      [`/console/resource-servers/${server.body.id}/delete`, {}],
      ['/console/keys/rotate', {}],
    ];
    for (const [path, form] of forms) {
      for (const csrf of [undefined, 'forged']) {
        const answer = await agent.post(`${base}${path}`, csrf === undefined ? form : { ...form, csrf });
        expect([path, answer.status]).toEqual([path, 403]);
        expect(answer.text).toContain('Form expired');
      }
    }
    expect((await admin(base, 'GET', `/resource-servers/${server.body.id}`)).body.name).toBe('CSRF target');
    expect((await admin(base, 'GET', '/resource-servers')).body.resource_servers).toHaveLength(1);
    expect(await tollgate.db.prisma.providerKey.count()).toBe(keysBefore);
    await admin(base, 'DELETE', `/resource-servers/${server.body.id}`);
  });

  it('answers bad resource-server and key forms with 4xx pages naming the problem', async () => {
    const { agent, page } = await signInToConsole(base, administrator.username, PASSWORD);
    const csrf = csrfOf(page.text);
    const taken = await admin(base, 'POST', '/resource-servers', { identifier: 'https://taken.example', name: 'Taken' });
    const other = await admin(base, 'POST', '/resource-servers', { identifier: 'https://other.example', name: 'Other' });
    const valid = { csrf, identifier: 'https://new.example', name: 'New' };
    const missing = '00000000-0000-0000-0000-000000000000';
    const cases: FormCase[] = [
      ['/console/resource-servers', { ...valid, identifier: 'not a uri' }, 400, 'identifier: must be an absolute URI'],
      ['/console/resource-servers', { ...valid, identifier: 'https://new.example/#x' }, 400, 'must not contain a fragment'],
      ['/console/resource-servers', { ...valid, name: '' }, 400, 'name'],
      ['/console/resource-servers', { ...valid, scopes: 'read "quoted"' }, 400, 'must be an RFC 6749 scope token'],
      ['/console/resource-servers', { ...valid, access_token_format: 'paseto' }, 400, 'access_token_format'],
      ['/console/resource-servers', { ...valid, signing_alg: 'HS256' }, 400, 'signing_alg'],
      ['/console/resource-servers', { ...valid, access_token_ttl: '99999' }, 400, 'access_token_ttl'],
      ['/console/resource-servers', { ...valid, access_token_ttl: 'soon' }, 400, 'access_token_ttl'],
      ['/console/resource-servers', { ...valid, 'scopes[x]': 'read' }, 400, 'must be a plain form field'],
      ['/console/resource-servers', { ...valid, public_base_url: 'https://api.example.com/path' }, 400, 'public_base_url: must be an http(s) origin'],
      ['/console/resource-servers', { ...valid, identifier: `${base}/` }, 400, 'must not be the issuer'],
      [`/console/resource-servers/${other.body.id}`, { ...valid, identifier: base.toUpperCase() }, 400, 'must not be the issuer'],
      ['/console/resource-servers', { ...valid, identifier: 'https://taken.example' }, 409, 'already exists'],
      [`/console/resource-servers/${other.body.id}`, { ...valid, identifier: 'https://taken.example' }, 409, 'already exists'],
      [`/console/resource-servers/${missing}`, valid, 404, `resource server ${missing} not found`],
      [`/console/resource-servers/${missing}/delete`, { csrf }, 404, 'not found'],
      ['/console/resource-servers/not-an-id/delete', { csrf }, 404, 'not found'],
      [
        '/console/clients',
        { csrf, scope: 'a', grant_types: 'client_credentials', resource_server_id: 'not-an-id' },
        400,
        'resource_server_id: must be a resource server id',
      ],
      [
        '/console/clients',
        { csrf, scope: 'a', grant_types: 'client_credentials', resource_server_id: missing },
        400,
        `resource_server_id: no resource server ${missing}`,
      ],
    ];
    await expectPages(agent, cases);
    // Refused forms come back as typed; nothing was made or changed.
    expect((await agent.post(`${base}/console/resource-servers`, { ...valid, identifier: 'not a uri', name: 'Kept name' })).text).toContain(
      'value="Kept name"',
    );
    expect((await admin(base, 'GET', '/resource-servers')).body.resource_servers).toHaveLength(2);
    expect((await admin(base, 'GET', `/resource-servers/${other.body.id}`)).body.identifier).toBe('https://other.example');
    expect((await agent.get(`${base}/console/resource-servers/${missing}`)).status).toBe(404);
    expect((await agent.get(`${base}/console/resource-servers?cursor=bad`)).status).toBe(400);

    // A second rotation while the first one's keys wait to sign: 409, on the keys page.
    const first = await agent.post(`${base}/console/keys/rotate`, { csrf });
    expect(first.status).toBe(303);
    const second = await agent.post(`${base}/console/keys/rotate`, { csrf });
    expect(second.status).toBe(409);
    expect(second.text).toContain('a rotation is in progress');
    expect(second.text).toContain('<h1>Keys</h1>');
    const failed = await admin(base, 'GET', '/audit?type=keys.rotated&outcome=failure');
    expect(failed.body.events).toMatchObject([{ actor: administrator.id, details: { via: 'console', error: 'conflict' } }]);
    for (const server of [taken, other]) await admin(base, 'DELETE', `/resource-servers/${server.body.id}`);
  });

  it('keeps its client: neither changed nor deleted through the admin API', async () => {
    expect((await admin(base, 'DELETE', '/clients/tollgate-console')).status).toBe(409);
    expect((await admin(base, 'PATCH', '/clients/tollgate-console', { disabled: true })).status).toBe(409);
    const client = await admin(base, 'GET', '/clients/tollgate-console');
    expect(client.body).toMatchObject({ token_endpoint_auth_method: 'none', redirect_uris: [`${base}/console/callback`] });
  });
});
