// DPoP (RFC 9449) with a real client: openid-client runs the authorization code flow with PKCE
// and DPoP against Tollgate's sign-in pages; bound tokens introspect with cnf.jkt; replayed proofs,
// missing or wrong keys, and server nonces are checked with proofs made here by hand.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { advanceClock } from '../helpers/clock.js';
import { BrowserAgent, csrfOf } from '../helpers/browser-agent.js';
import { DpopKey } from '../helpers/dpop.js';
import { admin, basic } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, introspector, PASSWORD, REDIRECT_URI, registerAppClient, tokenRequest, type AppClient, type TestUser } from '../helpers/users.js';

async function thumbprintOf(pair: CryptoKeyPair): Promise<string> {
  const { crv, kty, x, y } = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as { crv: string; kty: string; x: string; y: string };
  return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
}

let tollgate: TestTollgate;
let user: TestUser;
let introspect: (token: string) => Promise<Record<string, unknown>>;

beforeAll(async () => {
  tollgate = await startTollgate();
  user = await createUser(tollgate.url);
  introspect = await introspector(tollgate.url);
});
afterAll(() => tollgate?.close());

/** Signs the user in at `url` (an authorization URL) and returns where Tollgate sends the browser back. */
async function signInAt(url: URL): Promise<URL> {
  const agent = new BrowserAgent(tollgate.url);
  let page = await agent.follow(url.href);
  const login = /action="(\/interaction\/[\w-]+\/login)"/.exec(page.text)![1]!;
  page = await agent.follow((await agent.post(login, { csrf: csrfOf(page.text), login: user.username, password: PASSWORD })).location!);
  const consent = /action="(\/interaction\/[\w-]+\/consent)"/.exec(page.text)![1]!;
  page = await agent.follow((await agent.post(consent, { csrf: csrfOf(page.text), decision: 'allow' })).location!);
  return new URL(page.location!);
}

describe('openid-client', () => {
  it('runs the code flow with PKCE and DPoP for a public client, and refreshes with the same key only', async () => {
    const app = await registerAppClient(tollgate.url);
    const config = await client.discovery(new URL(tollgate.url), app.client_id, undefined, client.None(), {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });
    const keyPair = await client.randomDPoPKeyPair();
    const DPoP = client.getDPoPHandle(config, keyPair);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'read write',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });

    const callback = await signInAt(url);
    const tokens = await client.authorizationCodeGrant(
      config,
      callback,
      { pkceCodeVerifier: verifier, expectedState: state },
      { redirect_uri: REDIRECT_URI },
      { DPoP },
    );
    expect(tokens.token_type).toBe('dpop');
    expect(tokens.scope).toBe('read write');

    const jkt = await thumbprintOf(keyPair);
    expect(await introspect(tokens.access_token)).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt }, sub: user.id, client_id: app.client_id });
    // A public client's refresh token is bound to the key as well.
    expect(await introspect(tokens.refresh_token!)).toMatchObject({ active: true, cnf: { jkt } });

    // Without a proof, or with another key, the refresh token is useless to whoever stole it...
    const bare = await tokenRequest(tollgate.url, app, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! });
    expect(bare.body.error).toBe('invalid_grant');
    const thief = await tokenRequest(
      tollgate.url,
      app,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! },
      { dpop: new DpopKey().proof(`${tollgate.url}/token`) },
    );
    expect(thief.body.error).toBe('invalid_grant');
    // ...and those attempts did not count as a use: the holder of the key refreshes as before.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
    expect(refreshed.token_type).toBe('dpop');
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(await introspect(refreshed.access_token)).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt } });
  });
});

describe('proofs', () => {
  let confidential: AppClient;
  beforeAll(async () => {
    confidential = (await admin(tollgate.url, 'POST', '/clients', { scope: 'read' })).body as AppClient;
  });

  const clientCredentials = (dpop?: string) =>
    fetch(`${tollgate.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(confidential.client_id, confidential.client_secret!),
        ...(dpop ? { dpop } : {}),
      },
      body: 'grant_type=client_credentials',
    }).then(async (r) => ({ status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> }));

  it('binds a client_credentials token to the key', async () => {
    const key = new DpopKey();
    const issued = await clientCredentials(key.proof(`${tollgate.url}/token`));
    expect(issued.status).toBe(200);
    expect(issued.body.token_type).toBe('DPoP');
    expect(await introspect(issued.body.access_token as string)).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.thumbprint } });
  });

  it('refuses a replayed proof, also when the copies arrive at once', async () => {
    const key = new DpopKey();
    const proof = key.proof(`${tollgate.url}/token`);
    expect((await clientCredentials(proof)).status).toBe(200);
    const replay = await clientCredentials(proof);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_dpop_proof');
    expect(replay.body.error_description).toMatch(/replay/i);

    const fresh = key.proof(`${tollgate.url}/token`);
    const racing = await Promise.all(Array.from({ length: 10 }, () => clientCredentials(fresh)));
    expect(racing.map((r) => r.status).sort()).toEqual([200, ...Array<number>(9).fill(400)]);
  });

  it('refuses a proof replayed by another client (RFC 9449 §11.1: a jti is used once, by anyone)', async () => {
    const other = (await admin(tollgate.url, 'POST', '/clients', { scope: 'read' })).body as AppClient;
    const proof = new DpopKey().proof(`${tollgate.url}/token`);
    expect((await clientCredentials(proof)).status).toBe(200);
    const replay = await fetch(`${tollgate.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(other.client_id, other.client_secret!), dpop: proof },
      body: 'grant_type=client_credentials',
    });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_dpop_proof');
  });

  describe('freshness', () => {
    afterEach(() => vi.useRealTimers());

    it('refuses a proof stamped further ahead of the clock than 5 s', async () => {
      const key = new DpopKey();
      const now = Math.floor(Date.now() / 1000);
      const ahead = await clientCredentials(key.proof(`${tollgate.url}/token`, { iat: now + 299 }));
      expect(ahead.status).toBe(400);
      expect(ahead.body).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringMatching(/future/) as unknown });
      expect((await clientCredentials(key.proof(`${tollgate.url}/token`, { iat: now + 5 }))).status).toBe(200);
    });

    it('remembers a proof until it is stale, also one stamped ahead of the clock', async () => {
      const key = new DpopKey();
      const now = Math.floor(Date.now() / 1000);
      const ahead = key.proof(`${tollgate.url}/token`, { iat: now + 5 });
      const current = key.proof(`${tollgate.url}/token`, { iat: now });
      expect((await clientCredentials(ahead)).status).toBe(200);
      expect((await clientCredentials(current)).status).toBe(200);
      // 303 s on, the proof stamped 5 s ahead is still recent: its use must still be remembered.
      advanceClock(303_000);
      const replayed = await clientCredentials(ahead);
      expect(replayed.status).toBe(400);
      expect(replayed.body).toMatchObject({ error: 'invalid_dpop_proof', error_description: expect.stringMatching(/replay/) as unknown });
      for (const moved of [7_000, 289_000]) {
        advanceClock(moved);
        for (const proof of [ahead, current]) expect((await clientCredentials(proof)).status).toBe(400);
      }
    });
  });

  it('refuses proofs for another URL or method, unsigned or malformed ones', async () => {
    const key = new DpopKey();
    const [header, payload] = key.proof(`${tollgate.url}/token`).split('.');
    const cases = [
      key.proof(`${tollgate.url}/introspect`),
      key.proof(`${tollgate.url}/token`, {}, 'GET'),
      `${header}.${payload}.`,
      'not a jwt',
      'x'.repeat(5000),
    ];
    for (const proof of cases) {
      const answer = await clientCredentials(proof);
      expect(answer.status, proof.slice(0, 40)).toBe(400);
      expect(answer.body.error).toBe('invalid_dpop_proof');
    }
    // A stale proof is answered with a nonce to use instead of the client's clock (RFC 9449 §8).
    const stale = await clientCredentials(key.proof(`${tollgate.url}/token`, { iat: Math.floor(Date.now() / 1000) - 3600 }));
    expect(stale.body.error).toBe('use_dpop_nonce');
    expect(stale.headers.get('dpop-nonce')).toEqual(expect.any(String));
  });

  it('requires a proof from a client registered with dpop_bound_access_tokens', async () => {
    const strict = (await admin(tollgate.url, 'POST', '/clients', { scope: 'read', dpop_bound_access_tokens: true })).body as AppClient;
    expect(strict.dpop_bound_access_tokens).toBe(true);
    const request = (dpop?: string) =>
      fetch(`${tollgate.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basic(strict.client_id, strict.client_secret!),
          ...(dpop ? { dpop } : {}),
        },
        body: 'grant_type=client_credentials',
      });
    const bare = await request();
    expect(bare.status).toBe(400);
    const refusal = (await bare.json()) as { error: string; error_description: string };
    expect(refusal.error).toBe('invalid_dpop_proof');
    expect(refusal.error_description).toMatch(/DPoP proof is required for this client/);
    expect((await request(new DpopKey().proof(`${tollgate.url}/token`))).status).toBe(200);
  });
});

describe('server nonces (DPOP_REQUIRE_NONCE)', () => {
  let strictServer: TestTollgate;
  beforeAll(async () => {
    strictServer = await startTollgate({ DPOP_REQUIRE_NONCE: 'true' });
  });
  afterAll(() => strictServer?.close());

  it('asks for a nonce, then accepts a proof that carries it', async () => {
    const registered = (await admin(strictServer.url, 'POST', '/clients', { scope: 'read' })).body as AppClient;
    const key = new DpopKey();
    const send = (proof: string) =>
      fetch(`${strictServer.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(registered.client_id, registered.client_secret!), dpop: proof },
        body: 'grant_type=client_credentials',
      });
    const first = await send(key.proof(`${strictServer.url}/token`));
    expect(first.status).toBe(400);
    expect(((await first.json()) as { error: string }).error).toBe('use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toEqual(expect.any(String));

    expect((await send(key.proof(`${strictServer.url}/token`, { nonce: 'made-up' }))).status).toBe(400);
    const second = await send(key.proof(`${strictServer.url}/token`, { nonce }));
    expect(second.status).toBe(200);
    expect(((await second.json()) as { token_type: string }).token_type).toBe('DPoP');
  });

  it('works with openid-client, which retries with the nonce by itself', async () => {
    const registered = (await admin(strictServer.url, 'POST', '/clients', { scope: 'read' })).body as AppClient;
    const config = await client.discovery(new URL(strictServer.url), registered.client_id, undefined, client.ClientSecretBasic(registered.client_secret!), {
      algorithm: 'oauth2',
      execute: [client.allowInsecureRequests],
    });
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' }, { DPoP });
    expect(tokens.token_type).toBe('dpop');
  });
});
