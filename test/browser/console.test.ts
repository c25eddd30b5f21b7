// The web console in Chromium (Debian's, headless, driven by playwright-core): an administrator
// signs in through Tollgate's own sign-in page, goes through every page and every action, and
// signs out; a user without the admin role is refused. The strict CSP must block nothing of
// Tollgate's own, and no script may fail. A screenshot of each page goes to test/artifacts/.
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watchConsole } from '../helpers/chromium.js';
import { chromiumAvailable } from '../helpers/requirements.js';
import { admin, clientCredentialsToken } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { authorize } from '../helpers/browser-agent.js';
import { createUser, introspector, PASSWORD, REDIRECT_URI, registerAppClient, signInForTokens, type TestUser } from '../helpers/users.js';

const hasChromium = chromiumAvailable();
const ARTIFACTS = new URL('../artifacts/', import.meta.url);

let tollgate: TestTollgate;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let administrator: TestUser;
const problems: string[] = [];
const TOKENS_PER_CLIENT = 70;

const screenshot = (name: string) => page.screenshot({ path: new URL(`console-${name}.png`, ARTIFACTS).pathname, fullPage: true });

beforeAll(async () => {
  if (!hasChromium) return;
  await mkdir(ARTIFACTS, { recursive: true });
  // Rate limits on, for the dashboard's 429s: a client gets TOKENS_PER_CLIENT tokens a minute.
  tollgate = await startTollgate({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_TOKEN_PER_CLIENT: String(TOKENS_PER_CLIENT) });
  administrator = await createUser(tollgate.url, { username: 'ops-admin', admin: true });
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
  watchConsole(page, tollgate.url, problems);
  // The console's own confirmations (progressive JavaScript) are accepted as a person would.
  page.on('dialog', (dialog) => void dialog.accept());
});
afterAll(async () => {
  await browser?.close();
  await tollgate?.close();
});

async function signIn(target: Page, login: string) {
  await target.goto(`${tollgate.url}/console/`);
  await target.getByRole('heading', { name: 'Sign in' }).waitFor();
  await target.getByLabel('Username or email').fill(login);
  await target.getByLabel('Password').fill(PASSWORD);
  await target.getByRole('button', { name: 'Sign in' }).click();
}

/** The newest audit events of a type, as the admin API shows them. */
async function latest(type: string) {
  return (await admin(tollgate.url, 'GET', `/audit?type=${type}&limit=5`)).body.events as {
    actor: string;
    client_id: string;
    subject: string;
    outcome: string;
    details: Record<string, unknown>;
  }[];
}

describe.skipIf(!hasChromium)('the web console in Chromium', () => {
  it('refuses a user without the admin role', async () => {
    const user = await createUser(tollgate.url, { username: 'just-a-user' });
    const other = await browser.newContext();
    const tab = await other.newPage();
    await signIn(tab, user.username);
    await tab.getByRole('heading', { name: 'Not an administrator' }).waitFor();
    expect(await tab.textContent('main')).toContain('just-a-user may not use the console');
    await tab.screenshot({ path: new URL('console-refused.png', ARTIFACTS).pathname, fullPage: true });
    await other.close();
  });

  it('signs an administrator in to the dashboard', async () => {
    await signIn(page, administrator.username);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    expect(await page.title()).toBe('Dashboard · Tollgate console');
    expect(await page.textContent('.who')).toBe('ops-admin');
    await screenshot('dashboard');
  });

  it('registers a client and shows its secret once', async () => {
    await page.getByRole('link', { name: 'Clients', exact: true }).click();
    await page.getByRole('heading', { name: 'Clients' }).waitFor();
    await page.getByRole('link', { name: 'Register a client' }).click();
    await page.getByLabel('Client id').fill('billing');
    await page.getByLabel('Name').fill('Billing service');
    await page.getByLabel('Scopes it may request').fill('invoices:read invoices:write');
    await page.getByLabel('Default scopes').fill('invoices:read');
    // Bad input: the same message the admin API gives, the form kept as typed.
    await page.getByLabel('Access token lifetime (seconds)').fill('99999');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('access_token_ttl');
    expect(await page.getByLabel('Client id').inputValue()).toBe('billing');
    await screenshot('client-form-error');
    await page.getByLabel('Access token lifetime (seconds)').fill('600');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: 'Registered billing' }).waitFor();
    const secret = (await page.textContent('#client-secret'))!.trim();
    expect(secret).toMatch(/^[\w-]{43}$/);
    await expect(page.getByRole('button', { name: 'Copy' }).isVisible()).resolves.toBe(true);
    await screenshot('client-secret');
    expect((await clientCredentialsToken(tollgate.url, 'billing', secret)).status).toBe(200);
    const [created] = await latest('client.created');
    expect(created).toMatchObject({ actor: administrator.id, client_id: 'billing', outcome: 'success', details: { via: 'console' } });
    // Shown once: the client's page has no secret.
    await page.getByRole('link', { name: 'Done' }).click();
    await page.getByRole('heading', { name: 'Client billing' }).waitFor();
    expect(await page.content()).not.toContain(secret);
    await screenshot('client');
  });

  it('edits a client', async () => {
    await page.goto(`${tollgate.url}/console/clients/billing`);
    await page.getByRole('link', { name: 'Edit' }).click();
    expect(await page.getByLabel('Access token lifetime (seconds)').inputValue()).toBe('600');
    await page.getByLabel('Name').fill('Billing (renamed)');
    await page.getByLabel('Scopes it may request').fill('invoices:read');
    await screenshot('client-edit');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    const stored = await admin(tollgate.url, 'GET', '/clients/billing');
    expect(stored.body).toMatchObject({ client_name: 'Billing (renamed)', scope: 'invoices:read', default_scope: 'invoices:read', access_token_ttl: 600 });
  });

  it('rotates the secret with an overlap', async () => {
    const before = await admin(tollgate.url, 'POST', '/clients/billing/secret', { overlap_seconds: 0 });
    const old = before.body.client_secret as string;
    await page.goto(`${tollgate.url}/console/clients/billing`);
    await page.getByLabel('Keep the old secret working for (seconds)').fill('600');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('heading', { name: 'New secret for billing' }).waitFor();
    const fresh = (await page.textContent('#client-secret'))!.trim();
    expect(await page.textContent('main')).toContain('The previous secret keeps working until');
    await screenshot('client-rotated');
    expect((await clientCredentialsToken(tollgate.url, 'billing', fresh)).status).toBe(200);
    expect((await clientCredentialsToken(tollgate.url, 'billing', old)).status).toBe(200);
    const [rotated] = await latest('client.secret_rotated');
    expect(rotated).toMatchObject({ actor: administrator.id, client_id: 'billing', details: { overlap_seconds: 600, via: 'console' } });
  });

  it('disables and enables a client', async () => {
    await page.goto(`${tollgate.url}/console/clients/billing`);
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Client disabled').waitFor();
    expect((await admin(tollgate.url, 'GET', '/clients/billing')).body.disabled).toBe(true);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByText('Client enabled.').waitFor();
    expect((await admin(tollgate.url, 'GET', '/clients/billing')).body.disabled).toBe(false);
  });

  it('deletes a client after a confirmation', async () => {
    await page.goto(`${tollgate.url}/console/clients/billing`);
    await page.getByRole('link', { name: 'Delete…' }).click();
    await page.getByRole('heading', { name: 'Delete billing?' }).waitFor();
    await screenshot('client-delete');
    await page.getByRole('button', { name: 'Delete client' }).click();
    await page.getByText('Client deleted.').waitFor();
    expect((await admin(tollgate.url, 'GET', '/clients/billing')).status).toBe(404);
    await screenshot('clients');
    const [deleted] = await latest('client.deleted');
    expect(deleted).toMatchObject({ actor: administrator.id, client_id: 'billing' });
  });

  it('adds a resource server, edits it, links a client to it and deletes it after a confirmation', async () => {
    await page.getByRole('link', { name: 'Resource servers', exact: true }).click();
    await page.getByRole('heading', { name: 'Resource servers' }).waitFor();
    await page.getByRole('link', { name: 'Add a resource server' }).click();
    await page.getByLabel('Identifier').fill('https://api.example.com/ledger#part');
    await page.getByLabel('Name').fill('Ledger API');
    await page.getByLabel('Scopes').fill('ledger:read ledger:write');
    await page.getByRole('button', { name: 'Add' }).click();
    // Bad input: the admin API's message, the form kept as typed.
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('identifier: must not contain a fragment');
    expect(await page.getByLabel('Name').inputValue()).toBe('Ledger API');
    await page.getByLabel('Identifier').fill('https://api.example.com/ledger');
    await page.getByLabel('Access token lifetime (seconds)').fill('900');
    await page.getByLabel('Public base URL').fill('https://ledger.example.com');
    await page.getByRole('button', { name: 'Add' }).click();
    await page.getByText('Resource server added.').waitFor();
    await page.getByRole('heading', { name: 'Resource server Ledger API' }).waitFor();
    const id = new URL(page.url()).pathname.split('/').at(-1)!;
    expect((await admin(tollgate.url, 'GET', `/resource-servers/${id}`)).body).toMatchObject({
      identifier: 'https://api.example.com/ledger',
      scopes: ['ledger:read', 'ledger:write'],
      access_token_format: 'opaque',
      access_token_ttl: 900,
      signing_alg: 'RS256',
      dpop_required: false,
      public_base_url: 'https://ledger.example.com',
    });
    const [created] = await latest('resource_server.created');
    expect(created).toMatchObject({ actor: administrator.id, outcome: 'success', details: { resource_server_id: id, via: 'console' } });

    await page.getByRole('link', { name: 'Edit' }).click();
    expect(await page.getByLabel('Scopes').inputValue()).toBe('ledger:read ledger:write');
    await page.getByLabel('Name').fill('Ledger');
    await page.getByLabel('Access token format').selectOption('jwt');
    await page.getByLabel('Signing algorithm').selectOption('ES256');
    await page.getByLabel('Access token lifetime (seconds)').fill('');
    await page.getByLabel('Require DPoP-bound tokens').check();
    await page.getByLabel('Public base URL').fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    const edited = (await admin(tollgate.url, 'GET', `/resource-servers/${id}`)).body;
    expect(edited).toMatchObject({ name: 'Ledger', access_token_format: 'jwt', signing_alg: 'ES256', dpop_required: true });
    expect(edited.access_token_ttl).toBeUndefined();
    expect(edited.public_base_url).toBeUndefined();
    const [updated] = await latest('resource_server.updated');
    expect(updated).toMatchObject({ actor: administrator.id, details: { resource_server_id: id, via: 'console' } });
    await page.getByRole('link', { name: 'Resource servers', exact: true }).click();
    expect(await page.textContent('main table')).toContain('JWT (ES256)');
    await screenshot('resource-servers');

    // A client acts for it: chosen on the client's edit form.
    await admin(tollgate.url, 'POST', '/clients', { client_id: 'ledger-gateway', scope: 'ledger:read' });
    await page.goto(`${tollgate.url}/console/clients/ledger-gateway/edit`);
    await page.getByLabel('Acts for resource server').selectOption({ label: 'Ledger (https://api.example.com/ledger)' });
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    expect(await page.textContent('main')).toContain('https://api.example.com/ledger');
    expect((await admin(tollgate.url, 'GET', '/clients/ledger-gateway')).body.resource_server_id).toBe(id);

    await page.goto(`${tollgate.url}/console/resource-servers/${id}`);
    await page.getByRole('link', { name: 'Delete…' }).click();
    await page.getByRole('heading', { name: 'Delete Ledger?' }).waitFor();
    await screenshot('resource-server-delete');
    await page.getByRole('button', { name: 'Delete resource server' }).click();
    await page.getByText('Resource server deleted.').waitFor();
    expect((await admin(tollgate.url, 'GET', `/resource-servers/${id}`)).status).toBe(404);
    expect((await admin(tollgate.url, 'GET', '/clients/ledger-gateway')).body.resource_server_id).toBeUndefined();
    const [deleted] = await latest('resource_server.deleted');
    expect(deleted).toMatchObject({ actor: administrator.id, outcome: 'success', details: { resource_server_id: id } });
  });

  it('lists the keys without private material and starts a rotation', async () => {
    await page.getByRole('link', { name: 'Keys', exact: true }).click();
    await page.getByRole('heading', { name: 'Keys' }).waitFor();
    const before = (await admin(tollgate.url, 'GET', '/keys')).body.keys as { kid: string; state: string }[];
    const rows = page.locator('main tbody tr');
    expect(await rows.count()).toBe(before.length);
    for (const key of before) expect(await page.locator('main tbody tr', { hasText: key.kid }).textContent()).toContain(key.state);
    await page.getByRole('button', { name: 'Start a rotation' }).click();
    await page.getByText('Rotation started').waitFor();
    const after = (await admin(tollgate.url, 'GET', '/keys')).body.keys as { kid: string; state: string }[];
    const fresh = after.filter((key) => key.state === 'next');
    // One signing key per algorithm and a cookie key.
    expect(fresh).toHaveLength(4);
    expect(await rows.count()).toBe(after.length);
    for (const key of fresh) expect(await page.locator('main tbody tr', { hasText: key.kid }).textContent()).toContain('next');
    const content = await page.content();
    expect(content).not.toMatch(/"d"|private|BEGIN/i);
    await screenshot('keys');
    const [rotated] = await latest('keys.rotated');
    expect(rotated).toMatchObject({ actor: administrator.id, outcome: 'success', details: { via: 'console' } });
    expect([...(rotated!.details.kids as string[])].sort()).toEqual(fresh.map((key) => key.kid).sort());
  });

  it('creates a user, makes them an administrator and takes it back', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('link', { name: 'Create a user' }).click();
    await page.getByLabel('Username').fill('Carol');
    await page.getByLabel('Email').fill('carol@example.com');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('password: must be at least 8 characters');
    await screenshot('user-form-error');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByText('User created.').waitFor();
    await page.getByRole('heading', { name: 'User carol' }).waitFor();
    const id = new URL(page.url()).pathname.split('/').at(-1)!;
    const [created] = await latest('user.created');
    expect(created).toMatchObject({ actor: administrator.id, subject: id, outcome: 'success' });

    await page.getByRole('button', { name: 'Make administrator' }).click();
    await page.getByText('The user is now an administrator.').waitFor();
    expect((await admin(tollgate.url, 'GET', `/users/${id}`)).body.admin).toBe(true);
    await page.getByRole('button', { name: 'Remove admin role' }).click();
    await page.getByText('The user is no longer an administrator.').waitFor();
    expect((await admin(tollgate.url, 'GET', `/users/${id}`)).body.admin).toBe(false);
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    expect(await page.textContent('main table')).toContain('carol@example.com');
    await screenshot('users');
  });

  it("resets a user's password, shows and revokes their consents, and disables them", async () => {
    const user = await createUser(tollgate.url, { username: 'dave' });
    const app = await registerAppClient(tollgate.url);
    const tokens = await signInForTokens(tollgate.url, { client: app, user });
    const introspect = await introspector(tollgate.url);
    await page.goto(`${tollgate.url}/console/users/${user.id}`);
    await page.getByRole('heading', { name: 'User dave' }).waitFor();
    expect(await page.textContent('main table')).toContain(app.client_id);
    await screenshot('user');

    await page.getByLabel('New password').fill('a brand new password');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Password set.').waitFor();
    const signedIn = await authorize(tollgate.url, {
      clientId: app.client_id,
      redirectUri: REDIRECT_URI,
      scope: 'read',
      login: 'dave',
      password: 'a brand new password',
      consent: 'none',
    });
    expect(signedIn.code).toBeDefined();

    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('Consent revoked.').waitFor();
    expect(await page.textContent('main')).toContain('No remembered consents.');
    expect(await introspect(tokens.body.access_token as string)).toEqual({ active: false });
    const [revoked] = await latest('user.consent_revoked');
    expect(revoked).toMatchObject({ actor: administrator.id, subject: user.id, client_id: app.client_id });

    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('User disabled').waitFor();
    expect((await admin(tollgate.url, 'GET', `/users/${user.id}`)).body.disabled).toBe(true);
    const [disabled] = await latest('user.updated');
    expect(disabled).toMatchObject({ actor: administrator.id, subject: user.id, details: { fields: ['disabled'], via: 'console' } });
  });

  it('filters the audit trail by client, user, event type and time, a page at a time', async () => {
    // 60 token events of one client: more than a page.
    const service = (await admin(tollgate.url, 'POST', '/clients', { client_id: 'audited-service', scope: 'read' })).body;
    for (let i = 0; i < 60; i += 1) await clientCredentialsToken(tollgate.url, 'audited-service', service.client_secret as string);
    await page.getByRole('link', { name: 'Audit trail', exact: true }).click();
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    await page.getByLabel('Client').fill('audited-service');
    await page.getByLabel('Event type').selectOption('token.issued');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/type=token.issued/);
    // Empty filters are left out of the address (progressive JavaScript).
    expect(new URL(page.url()).searchParams.has('user')).toBe(false);
    const rows = page.locator('main tbody tr');
    expect(await rows.count()).toBe(50);
    for (const text of await rows.allTextContents()) expect(text).toContain('token.issued');
    await screenshot('audit');
    await page.getByRole('link', { name: 'Older events' }).click();
    await page.waitForURL(/cursor=/);
    expect(await rows.count()).toBe(10);
    expect(await page.getByRole('link', { name: 'Older events' }).count()).toBe(0);
    expect(await page.getByLabel('Client').inputValue()).toBe('audited-service');

    // By user, named as a person would, and by a time range that holds nothing.
    await page.goto(`${tollgate.url}/console/audit?user=dave&type=user.updated`);
    // Their password reset and their disabling.
    expect(await rows.count()).toBe(2);
    for (const text of await rows.allTextContents()) expect(text).toContain('"via":"console"');
    await page.getByLabel('From (UTC)').fill('2001-01-01T00:00');
    await page.getByLabel('Until (UTC)').fill('2001-01-02T00:00');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No events match.').waitFor();
    // A range that runs backwards is refused with the admin API's message.
    await page.goto(`${tollgate.url}/console/audit?since=2001-01-02T00:00&until=2001-01-01T00:00`);
    expect(await page.getByRole('alert').textContent()).toBe('since: since must be before until');
  });

  it('draws the dashboard: tokens issued, introspections, failures and 429s over time', async () => {
    const noisy = (await admin(tollgate.url, 'POST', '/clients', { client_id: 'noisy', scope: 'read' })).body;
    const statuses: number[] = [];
    for (let i = 0; i < TOKENS_PER_CLIENT + 5; i += 1)
      statuses.push((await clientCredentialsToken(tollgate.url, 'noisy', noisy.client_secret as string)).status);
    expect(statuses.filter((status) => status === 429)).toHaveLength(5);
    const token = (await clientCredentialsToken(tollgate.url, 'billing-2', 'wrong secret')).status;
    expect(token).toBe(401);

    // A row may stand for a minute of introspections: the chart counts occurrences. A minute that
    // closes between the two readings and the chart's is written at the next one, so the chart's
    // total lies between them.
    const introspections = async () =>
      ((await admin(tollgate.url, 'GET', '/audit?type=token.introspected&limit=500')).body.events as { count: number }[]).reduce(
        (sum, event) => sum + event.count,
        0,
      );
    const introspectedBefore = await introspections();
    await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const introspectedAfter = await introspections();
    const charts = page.locator('figure.chart');
    expect(await charts.count()).toBe(4);
    const total = async (title: string) => Number(await page.locator('figure.chart', { hasText: title }).getAttribute('data-total'));
    expect(await total('Refused requests (429)')).toBe(5);
    expect(await total('Tokens issued')).toBeGreaterThanOrEqual(TOKENS_PER_CLIENT + 60);
    expect(await total('Introspections')).toBeGreaterThanOrEqual(introspectedBefore);
    expect(await total('Introspections')).toBeLessThanOrEqual(introspectedAfter);
    const failed = (await admin(tollgate.url, 'GET', '/audit?outcome=failure&limit=500')).body.events as unknown[];
    expect(await total('Failures')).toBe(failed.length);
    // Pictures, not tables: each chart is an SVG with a bar per busy hour, its count in a tooltip.
    expect(await page.locator('figure.chart svg[role="img"]').count()).toBe(4);
    expect(await page.locator('figure.chart', { hasText: 'Refused requests' }).locator('rect title').allTextContents()).toEqual([
      expect.stringMatching(/^\d\d:\d\d: 5$/),
    ]);
    expect(await page.locator('main table').count()).toBe(0);
    await screenshot('dashboard');

    await page.getByRole('link', { name: 'Last 7 days' }).click();
    await page.waitForURL(/range=week/);
    expect(await total('Refused requests (429)')).toBe(5);
    await page.getByRole('link', { name: 'Last hour' }).click();
    await page.waitForURL(/range=hour/);
    expect(await page.locator('figure.chart', { hasText: 'Tokens issued' }).locator('text').last().textContent()).toMatch(/^\d\d:\d\d$/);
    await screenshot('dashboard-hour');
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    await screenshot('signed-out');
    // The session is gone: the console asks for the password again.
    await page.goto(`${tollgate.url}/console/clients`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('has loaded nothing the CSP blocked, and run no failing script', () => {
    expect(problems).toEqual([]);
  });
});
