// Tollgate behind a reverse proxy: the client address from trusted proxies only, every URL from
// ISSUER (never from Host or X-Forwarded-*), an issuer with a path, Secure cookies for an https
// issuer and /metrics closed on the main port; on whichever store the run uses.
import { request } from 'node:http';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, describe, expect, it } from 'vitest';
import { authorize, BrowserAgent, pkcePair } from '../helpers/browser-agent.js';
import { admin, basic, registerClient } from '../helpers/oauth.js';
import { signInToConsole } from '../helpers/console.js';
import { metricsText, metricValue } from '../helpers/ops.js';
import { freePort, startTollgate, TEST_METRICS_TOKEN, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, PASSWORD, REDIRECT_URI, registerAppClient, tokenRequest } from '../helpers/users.js';

/** A raw HTTP request, so a test can send any Host header (fetch sends the URL's), or an absolute-form target (`target`). */
function rawRequest(
  url: string,
  headers: Record<string, string>,
  target?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, ...(target ? { path: target } : {}) }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function withTollgate(env: Record<string, string>, run: (tollgate: TestTollgate) => Promise<void>): Promise<void> {
  const tollgate = await startTollgate(env);
  try {
    await run(tollgate);
  } finally {
    await tollgate.close();
  }
}

const HTTPS_ISSUER = 'https://auth.example.com';
let httpsServer: Promise<TestTollgate> | undefined;
afterAll(async () => {
  await (await httpsServer)?.close();
});

/**
 * `run` on the file's one server with ISSUER=https://auth.example.com and the default settings,
 * started at first use: for tests whose requests change nothing another test looks at.
 */
async function withHttpsTollgate(run: (tollgate: TestTollgate) => Promise<void>): Promise<void> {
  await run(await (httpsServer ??= startTollgate({ ISSUER: HTTPS_ISSUER })));
}

/** POST /token with client_credentials from 127.0.0.1 with the given X-Forwarded-For. */
async function tokenStatus(tollgate: TestTollgate, credentials: { client_id: string; client_secret: string }, forwardedFor?: string): Promise<number> {
  const response = await fetch(`${tollgate.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(credentials.client_id, credentials.client_secret),
      ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }),
    },
    body: 'grant_type=client_credentials',
  });
  await response.arrayBuffer();
  return response.status;
}

describe('the client address behind trusted proxies', () => {
  for (const trust of [{ TRUSTED_PROXIES: '127.0.0.1' }, { TRUSTED_PROXIES: '1' }, { TRUST_PROXY: 'true' }] as Record<string, string>[]) {
    it(`is the rightmost X-Forwarded-For entry a trusted proxy added, so rotating the rest changes nothing (${JSON.stringify(trust)})`, async () => {
      await withTollgate({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_TOKEN_PER_IP: '3', ...trust }, async (tollgate) => {
        const client = await registerClient(tollgate.url);
        // The proxy (127.0.0.1) appends the address it saw, 198.51.100.7, to whatever the client sent.
        const rotated = [];
        for (let i = 0; i < 5; i++) rotated.push(await tokenStatus(tollgate, client, `203.0.113.${i}, 198.51.100.7`));
        expect(rotated).toEqual([200, 200, 200, 429, 429]);
        // Another client behind the same proxy has its own budget, whatever it claims to be.
        expect(await tokenStatus(tollgate, client, '198.51.100.7, 198.51.100.8')).toBe(200);
        expect(await tokenStatus(tollgate, client, '198.51.100.9')).toBe(200);
        // And the addresses the client wrote did not spend their owners' budgets.
        expect(await tokenStatus(tollgate, client, '203.0.113.1')).toBe(200);
      });
    });
  }

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    await withTollgate({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_TOKEN_PER_IP: '3', TRUSTED_PROXIES: '10.0.0.0/8' }, async (tollgate) => {
      const client = await registerClient(tollgate.url); // one request from 127.0.0.1
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push(await tokenStatus(tollgate, client, `203.0.113.${i}`));
      expect(statuses).toEqual([200, 200, 429]);
    });
  });

  it('survives malformed X-Forwarded-For entries: never a 500', async () => {
    await withTollgate({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_TOKEN_PER_IP: '1000', TRUSTED_PROXIES: '127.0.0.1' }, async (tollgate) => {
      const client = await registerClient(tollgate.url);
      for (const forwarded of [
        '',
        ',',
        ' , ,',
        'not-an-address',
        '999.1.1.1',
        '1.2.3.4:80',
        '[::1]:8080',
        'a'.repeat(4000),
        '::ffff:127.0.0.1',
        '2001:db8::1, unknown',
      ]) {
        expect(await tokenStatus(tollgate, client, forwarded), forwarded.slice(0, 40)).toBe(200);
      }
    });
  });
});

describe('URLs come from ISSUER only', () => {
  it('a Host or X-Forwarded-Host header cannot steer discovery or the sign-in redirects', async () => {
    const issuer = HTTPS_ISSUER;
    for (const trust of [undefined, { TRUST_PROXY: 'true' }, { TRUSTED_PROXIES: '127.0.0.1' }] as (Record<string, string> | undefined)[]) {
      const onServer = trust ? (run: (tollgate: TestTollgate) => Promise<void>) => withTollgate({ ISSUER: issuer, ...trust }, run) : withHttpsTollgate;
      await onServer(async (tollgate) => {
        for (const [path, target] of [
          ['/.well-known/openid-configuration'],
          ['/.well-known/oauth-authorization-server'],
          // RFC 9112 §3.2.2's absolute form names a host of its own.
          ['/.well-known/openid-configuration', 'http://evil.example/.well-known/openid-configuration'],
        ]) {
          const answer = await rawRequest(
            `${tollgate.url}${path}`,
            { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
            target,
          );
          expect(answer.status).toBe(200);
          const metadata = JSON.parse(answer.text) as Record<string, string>;
          expect(metadata.issuer).toBe(issuer);
          for (const key of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'introspection_endpoint', 'revocation_endpoint']) {
            expect(metadata[key], key).toMatch(/^https:\/\/auth\.example\.com\//);
          }
        }
        const app = await registerAppClient(tollgate.url);
        const query = new URLSearchParams({
          client_id: app.client_id,
          redirect_uri: REDIRECT_URI,
          response_type: 'code',
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
        });
        const started = await rawRequest(`${tollgate.url}/auth?${query}`, { host: 'evil.example', 'x-forwarded-host': 'evil.example' });
        expect(started.status).toBe(303);
        expect(String(started.headers.location)).toMatch(/^\/interaction\/[\w-]+$/);
      });
    }
  });
});

describe('an issuer with a path', () => {
  it('serves discovery, the token endpoints, the admin API and the sign-in pages under that path', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}/auth`;
    await withTollgate({ PORT: String(port), ISSUER: issuer }, async (tollgate) => {
      const registered = await registerClient(issuer, { scope: 'read write', default_scope: 'read' });
      const created = await admin(issuer, 'POST', '/clients', { client_name: 'located' });
      expect(created.headers.get('location')).toBe(`/auth/admin/clients/${created.body.client_id as string}`);
      expect((await admin(issuer, 'GET', `/clients/${created.body.client_id as string}`)).status).toBe(200);

      // OpenID Connect Discovery: ISSUER/.well-known/openid-configuration.
      const config = await client.discovery(new URL(issuer), registered.client_id, undefined, client.ClientSecretBasic(registered.client_secret), {
        algorithm: 'oidc',
        execute: [client.allowInsecureRequests],
      });
      expect(config.serverMetadata()).toMatchObject({
        issuer,
        token_endpoint: `${issuer}/token`,
        introspection_endpoint: `${issuer}/introspect`,
        jwks_uri: `${issuer}/jwks`,
      });
      const tokens = await client.clientCredentialsGrant(config, { scope: 'write' });
      expect(await client.tokenIntrospection(config, tokens.access_token)).toMatchObject({
        active: true,
        client_id: registered.client_id,
        scope: 'write',
        iss: issuer,
      });
      await client.tokenRevocation(config, tokens.access_token);
      expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });

      // RFC 8414 §3.1: the well-known segment goes before the issuer's path.
      const as = await oauth
        .discoveryRequest(new URL(issuer), { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true })
        .then((response) => oauth.processDiscoveryResponse(new URL(issuer), response));
      expect(as.token_endpoint).toBe(`${issuer}/token`);
      const keys = await fetch(as.jwks_uri!);
      expect(keys.status).toBe(200);

      // Nothing is served outside the issuer's path but that metadata.
      for (const path of ['/token', '/.well-known/openid-configuration', '/healthz', '/interaction/x']) {
        const outside = await fetch(`${tollgate.url}${path}`);
        expect(outside.status, path).toBe(404);
        // No endpoint's headers either: /token outside the issuer's path is not the token endpoint.
        expect(outside.headers.get('pragma'), path).toBeNull();
      }
      expect((await fetch(`${issuer}/healthz`)).status).toBe(200);

      // The sign-in pages, their forms and stylesheet, and the code they end with.
      const user = await createUser(issuer);
      const app = await registerAppClient(issuer);
      const { challenge } = pkcePair();
      const query = new URLSearchParams({
        client_id: app.client_id,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const login = await new BrowserAgent(issuer).follow(`${issuer}/auth?${query}`);
      expect(login.text).toMatch(/action="\/auth\/interaction\/[\w-]+\/login"/);
      const stylesheet = /<link rel="stylesheet" href="([^"]+)">/.exec(login.text)![1]!;
      expect(stylesheet).toBe('/auth/assets/tollgate.css');
      expect((await fetch(new URL(stylesheet, issuer))).status).toBe(200);
      const flow = await authorize(issuer, {
        clientId: app.client_id,
        redirectUri: REDIRECT_URI,
        scope: 'read',
        login: user.username,
        password: PASSWORD,
        remember: false,
      });
      expect(flow.redirect!.searchParams.get('iss')).toBe(issuer);
      const exchanged = await tokenRequest(issuer, app, {
        grant_type: 'authorization_code',
        code: flow.code!,
        redirect_uri: REDIRECT_URI,
        code_verifier: flow.verifier,
      });
      expect(exchanged.status).toBe(200);

      // The web console: its client's callback, its redirects and its cookies under the path.
      const operator = await createUser(issuer, { admin: true });
      const consoleClient = await admin(issuer, 'GET', '/clients/tollgate-console');
      expect(consoleClient.body.redirect_uris).toEqual([`${issuer}/console/callback`]);
      const { agent, page } = await signInToConsole(issuer, operator.username, PASSWORD);
      expect(page.status).toBe(200);
      expect(page.text).toContain('href="/auth/console/clients"');
      expect(agent.cookies.has('tollgate_console')).toBe(true);
      expect((await agent.get(`${issuer}/console/clients`)).status).toBe(200);
      expect((await fetch(`${tollgate.url}/console/`, { redirect: 'manual' })).status).toBe(404);
    });
  });
});

describe('cookies', () => {
  it('are Secure when the issuer is https, whatever the connection or proxy headers say', async () => {
    await withHttpsTollgate(async (tollgate) => {
      const app = await registerAppClient(tollgate.url);
      const query = new URLSearchParams({
        client_id: app.client_id,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      });
      const started = await fetch(`${tollgate.url}/auth?${query}`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'http' } });
      expect(started.status).toBe(303);
      const cookies = started.headers.getSetCookie();
      expect(cookies.length).toBeGreaterThan(0);
      for (const cookie of cookies) expect(cookie, cookie.split('=')[0]).toMatch(/;\s*secure(;|$)/i);
      const consoleLogin = await fetch(`${tollgate.url}/console/login`, { redirect: 'manual', headers: { 'x-forwarded-proto': 'http' } });
      expect(consoleLogin.headers.getSetCookie()).toEqual([expect.stringMatching(/^tollgate_console_login=.*;\s*secure(;|$)/i)]);
    });
  });
});

describe('/metrics on the main port', () => {
  it('is refused without METRICS_TOKEN, and with it needs that bearer token', async () => {
    await withTollgate({ METRICS_TOKEN: '' }, async (tollgate) => {
      expect((await fetch(`${tollgate.url}/metrics`)).status).toBe(404);
      expect((await fetch(`${tollgate.url}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } })).status).toBe(404);
    });
    // With METRICS_TOKEN (the test servers' default); the issuer's scheme plays no part.
    await withHttpsTollgate(async (tollgate) => {
      const denied = await fetch(`${tollgate.url}/metrics`);
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await denied.json()).toMatchObject({ error: 'invalid_token' });
      expect((await fetch(`${tollgate.url}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}x` } })).status).toBe(401);
      expect((await fetch(`${tollgate.url}/metrics`, { headers: { authorization: basic('metrics', TEST_METRICS_TOKEN) } })).status).toBe(401);
      expect(metricValue(await metricsText(tollgate.url), 'tollgate_audit_queue_depth')).toBeGreaterThanOrEqual(0);
    });
  });
});
