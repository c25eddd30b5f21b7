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
import { createUser, PASSWORD, type TestUser } from '../helpers/users.js';

const hasChromium = chromiumAvailable();
const ARTIFACTS = new URL('../artifacts/', import.meta.url);

let tollgate: TestTollgate;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let administrator: TestUser;
const problems: string[] = [];

const screenshot = (name: string) => page.screenshot({ path: new URL(`console-${name}.png`, ARTIFACTS).pathname, fullPage: true });

beforeAll(async () => {
  if (!hasChromium) return;
  await mkdir(ARTIFACTS, { recursive: true });
  tollgate = await startTollgate();
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
  return (await admin(tollgate.url, 'GET', `/audit?type=${type}&limit=5`)).body.events as { actor: string; client_id: string; subject: string; outcome: string; details: Record<string, unknown> }[];
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

  it('has loaded nothing the CSP blocked, and run no failing script', () => {
    expect(problems).toEqual([]);
  });
});
