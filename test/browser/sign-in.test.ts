// End to end in a real browser: Debian's Chromium, headless, driven by playwright-core. A user
// signs in and consents on Tollgate's pages, the browser lands on the application's callback, and
// the application (openid-client) exchanges the code, refreshes twice, and replays its first
// refresh token, which ends the whole session. Screenshots of the pages go to test/artifacts/.
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { launchChromium, watchConsole } from '../helpers/chromium.js';
import { chromiumAvailable } from '../helpers/requirements.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, introspector, PASSWORD, type TestUser } from '../helpers/users.js';

const hasChromium = chromiumAvailable();
const ARTIFACTS = new URL('../artifacts/', import.meta.url);

let tollgate: TestTollgate;
let browser: Browser;
let app: Server;
let callbackBase: string;
let user: TestUser;
let introspect: (token: string) => Promise<Record<string, unknown>>;
/** The URLs the browser brought back to the application's callback. */
const callbacks: string[] = [];

beforeAll(async () => {
  if (!hasChromium) return;
  await mkdir(ARTIFACTS, { recursive: true });
  // The application: a callback page on its own origin, as a real client would have.
  app = createServer((req, res) => {
    if (req.url?.startsWith('/callback')) callbacks.push(`${callbackBase}${req.url}`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><title>App</title><p id="done">Back in the app</p>');
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  callbackBase = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;

  tollgate = await startTollgate();
  user = await createUser(tollgate.url, { username: 'ada' });
  introspect = await introspector(tollgate.url);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await tollgate?.close();
  if (app) await new Promise((resolve) => app.close(resolve));
});

describe.skipIf(!hasChromium)('signing in with Chromium', () => {
  it('signs in, consents, refreshes twice, and a replayed refresh token ends the session', async () => {
    const registered = await admin(tollgate.url, 'POST', '/clients', {
      client_name: 'Photo Album',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [`${callbackBase}/callback`],
      scope: 'photos.read photos.write',
    });
    const clientId = registered.body.client_id as string;
    const config = await client.discovery(new URL(tollgate.url), clientId, undefined, client.None(), {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: `${callbackBase}/callback`,
      scope: 'photos.read photos.write',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });

    const context = await browser.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page, tollgate.url);

    await page.goto(authorizationUrl.href);
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    expect(await page.title()).toBe('Sign in · Tollgate');
    // The username field has the focus, so a person can start typing.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('login');
    await page.screenshot({ path: new URL('login.png', ARTIFACTS).pathname, fullPage: true });

    // A wrong password: the message is announced, and what was typed stays.
    await page.getByLabel('Username or email').fill('ada');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('The username or password is incorrect.');
    expect(await page.getByLabel('Username or email').inputValue()).toBe('ada');
    await page.screenshot({ path: new URL('login-error.png', ARTIFACTS).pathname, fullPage: true });

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    expect(await page.textContent('body')).toContain('Photo Album');
    expect(await page.textContent('body')).toContain('photos.write');
    expect(await page.getByLabel('Remember my decision for this application').isChecked()).toBe(true);
    await page.screenshot({ path: new URL('consent.png', ARTIFACTS).pathname, fullPage: true });

    // Allow: the form post is answered with redirects that end at the application's own origin,
    // which Chrome allows only if the page's form-action lets it.
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`${callbackBase}/callback?**`);
    expect(await page.textContent('#done')).toBe('Back in the app');
    expect(problems).toEqual([]);

    const callback = new URL(callbacks.at(-1)!);
    const tokens = await client.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state },
      { redirect_uri: `${callbackBase}/callback` },
    );
    expect(tokens.scope).toBe('photos.read photos.write');
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, sub: user.id, client_id: clientId });

    const second = await client.refreshTokenGrant(config, tokens.refresh_token!);
    const third = await client.refreshTokenGrant(config, second.refresh_token!);
    expect(await introspect(third.access_token)).toMatchObject({ active: true });

    // The first refresh token comes back: reuse. The grant is revoked, the newest tokens with it.
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await introspect(third.access_token)).toEqual({ active: false });
    await expect(client.refreshTokenGrant(config, third.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // Signed in and consent remembered: the next authorization goes straight back to the app.
    const again = client.buildAuthorizationUrl(config, {
      redirect_uri: `${callbackBase}/callback`,
      scope: 'photos.read',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: client.randomState(),
    });
    await page.goto(again.href);
    await page.waitForURL(`${callbackBase}/callback?**`);
    expect(new URL(page.url()).searchParams.get('code')).toEqual(expect.any(String));
    await context.close();
  });

  it('shows an expired sign-in page clearly', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`${tollgate.url}/interaction/no-such-interaction`);
    expect(response?.status()).toBe(400);
    await expect(page.getByRole('heading', { name: 'Sign-in expired' }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: new URL('expired.png', ARTIFACTS).pathname, fullPage: true });
    await context.close();
  });
});
