// Key rotation through its phases, on the injected clock: a rotation publishes new keys (`next`)
// for JWKS_CACHE_SECONDS before they sign, the keys they replace stay published (`previous`)
// until what they signed has expired, then go. Started by the admin API, the CLI or KEY_ROTATION_DAYS.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SIGNING_RETENTION_SECONDS } from '../../src/keys/store.js';
import { advanceClock } from '../helpers/clock.js';
import { runAdmin } from '../helpers/admin-cli.js';
import { admin } from '../helpers/oauth.js';
import { startInstances } from '../helpers/instances.js';
import { seedDataDir } from '../helpers/prepared.js';
import { BrowserAgent, csrfOf, pkcePair } from '../helpers/browser-agent.js';
import { createUser, PASSWORD, REDIRECT_URI, registerAppClient, tokenRequest } from '../helpers/users.js';
import { waitFor } from '../helpers/wait-for.js';
import type { RunningServer } from '../../src/server.js';
import { startTollgate, usingPostgres, type TestTollgate, SERVER_TEST_TIMEOUT_MS } from '../helpers/tollgate.js';

afterEach(() => {
  vi.useRealTimers();
});

interface KeyView {
  kid: string;
  kind: string;
  alg: string | null;
  use: string | null;
  state: string;
  activates_at: string | null;
  expires_at: string | null;
}

const listKeys = async (server: TestTollgate) => ((await admin(server.url, 'GET', '/keys')).body.keys ?? []) as KeyView[];
const jwksKids = async (url: string) => ((await (await fetch(`${url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid).sort();
const kidsIn = (keys: KeyView[], state: string, kind = 'signing') =>
  keys
    .filter((key) => key.state === state && key.kind === kind)
    .map((key) => key.kid)
    .sort();

/** A sign-in started in a browser, at its password page; `finish` signs in, consents and exchanges the code. */
async function startSignIn(server: TestTollgate) {
  const user = await createUser(server.url);
  const client = await registerAppClient(server.url);
  const agent = new BrowserAgent(server.url);
  const { verifier, challenge } = pkcePair();
  const query = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'read',
  });
  const login = await agent.follow(`${server.url}/auth?${query}`);
  expect(login.text).toContain('name="password"');
  return {
    async finish() {
      const uid = /action="[^"]*\/interaction\/([\w-]+)\/login"/.exec(login.text)![1]!;
      const posted = await agent.post(`${server.url}/interaction/${uid}/login`, { csrf: csrfOf(login.text), login: user.username, password: PASSWORD });
      expect(posted.location, posted.text.slice(0, 300)).toBeTruthy();
      let page = await agent.follow(posted.location!);
      const consentUid = /action="[^"]*\/interaction\/([\w-]+)\/consent"/.exec(page.text)![1]!;
      const consented = await agent.post(`${server.url}/interaction/${consentUid}/consent`, { csrf: csrfOf(page.text), decision: 'allow' });
      page = await agent.follow(consented.location!);
      const code = new URL(page.location!).searchParams.get('code');
      expect(code).toBeTruthy();
      const tokens = await tokenRequest(server.url, client, {
        grant_type: 'authorization_code',
        code: code!,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      });
      expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    },
  };
}

describe('key rotation', { timeout: SERVER_TEST_TIMEOUT_MS }, () => {
  // One server for the tests that need nothing of their own: the header, and a rotation through every phase.
  describe('publishing new keys for JWKS_CACHE_SECONDS=600', () => {
    let server: TestTollgate;
    beforeAll(async () => {
      server = await startTollgate({ JWKS_CACHE_SECONDS: '600' });
    }, SERVER_TEST_TIMEOUT_MS);
    afterAll(() => server?.close());

    it('serves /jwks with Cache-Control: max-age=JWKS_CACHE_SECONDS', async () => {
      const response = await fetch(`${server.url}/jwks`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=600');
    });

    it('goes next → current → previous → removed, on the clock; the admin API shows no private material', async () => {
      const before = await listKeys(server);
      expect(before.map((key) => [key.kind, key.alg, key.use, key.state]).sort()).toEqual([
        ['cookie', null, null, 'current'],
        ['signing', 'ES256', 'sig', 'current'],
        ['signing', 'EdDSA', 'sig', 'current'],
        ['signing', 'RS256', 'sig', 'current'],
      ]);
      const oldKids = kidsIn(before, 'current');

      const rotated = await admin(server.url, 'POST', '/keys/rotate');
      expect(rotated.status).toBe(201);
      const created = rotated.body.keys as KeyView[];
      expect(created.map((key) => key.state)).toEqual(['next', 'next', 'next', 'next']);
      const newKids = kidsIn(created, 'next');
      const activatesAt = Date.parse(created[0]!.activates_at!);
      expect(activatesAt - Date.now()).toBeGreaterThan(590_000);
      expect(JSON.stringify(await listKeys(server))).not.toMatch(/"(d|p|q|sealed)"/);

      // Published at once, not signing yet; a second rotation meanwhile is refused.
      expect(await jwksKids(server.url)).toEqual([...oldKids, ...newKids].sort());
      expect((await admin(server.url, 'POST', '/keys/rotate')).status).toBe(409);

      // Not before its time...
      advanceClock(500_000);
      await server.running.app.keys.tick();
      expect(kidsIn(await listKeys(server), 'next')).toEqual(newKids);

      // ...then the new keys sign and the old ones stay published.
      advanceClock(101_000);
      await server.running.app.keys.tick();
      const promoted = await listKeys(server);
      expect(kidsIn(promoted, 'current')).toEqual(newKids);
      expect(kidsIn(promoted, 'previous')).toEqual(oldKids);
      expect(kidsIn(promoted, 'current', 'cookie')).toHaveLength(1);
      expect(kidsIn(promoted, 'previous', 'cookie')).toHaveLength(1);
      expect(await jwksKids(server.url)).toEqual([...oldKids, ...newKids].sort());
      expect(server.running.app.keys.cookieKeys).toHaveLength(2);

      // Until every token they signed has expired.
      advanceClock((SIGNING_RETENTION_SECONDS - 10) * 1000);
      await server.running.app.keys.tick();
      expect(await jwksKids(server.url)).toEqual([...oldKids, ...newKids].sort());
      advanceClock(20_000);
      await server.running.app.keys.tick();
      expect(await jwksKids(server.url)).toEqual(newKids);
      expect(kidsIn(await listKeys(server), 'previous')).toEqual([]);
      // The rotation is in the audit trail, and so is the one refused meanwhile, as the conflict it was.
      await server.running.app.audit.flush();
      expect(await server.db.prisma.auditEvent.count({ where: { type: 'keys.rotated', outcome: 'success' } })).toBe(1);
      const refused = await server.db.prisma.auditEvent.findMany({ where: { type: 'keys.rotated', outcome: 'failure' } });
      expect(refused.map((event) => event.details)).toEqual([expect.objectContaining({ status: 409, error: 'conflict' })]);
    });
  });

  it('rotates the cookie keys without breaking a sign-in under way: the new key signs, the old one still verifies', async () => {
    const server = await startTollgate({ JWKS_CACHE_SECONDS: '0' });
    try {
      const signIn = await startSignIn(server);
      const before = [...server.running.app.keys.cookieKeys];

      // With JWKS_CACHE_SECONDS=0 the new keys sign at once.
      expect((await admin(server.url, 'POST', '/keys/rotate')).status).toBe(201);
      const after = server.running.app.keys.cookieKeys;
      expect(after).toHaveLength(2);
      expect(after[0]).not.toBe(before[0]);
      expect(after[1]).toBe(before[0]);

      await signIn.finish();
    } finally {
      await server.close();
    }
  });

  it('keeps a previous cookie key as long as a sign-in under way may last, even with a shorter SESSION_TTL', async () => {
    const server = await startTollgate({ JWKS_CACHE_SECONDS: '0', SESSION_TTL: '60' });
    try {
      const signIn = await startSignIn(server);
      expect((await admin(server.url, 'POST', '/keys/rotate')).status).toBe(201);
      // Past SESSION_TTL, well within the sign-in's own lifetime (INTERACTION_TTL).
      advanceClock(10 * 60_000);
      await server.running.app.keys.tick();
      expect(server.running.app.keys.cookieKeys).toHaveLength(2);
      await signIn.finish();
    } finally {
      await server.close();
    }
  });

  it('starts a rotation on its own every KEY_ROTATION_DAYS, on the schedule', async () => {
    const server = await startTollgate({ KEY_ROTATION_DAYS: '30', JWKS_CACHE_SECONDS: '3600' });
    try {
      // The ring's own schedule, started again on fake intervals: its check runs when the test moves time on, not seconds later.
      server.running.app.keys.close();
      vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
      server.running.app.keys.start();
      advanceClock(29 * 86_400_000);
      await server.running.app.keys.tick();
      expect(kidsIn(await listKeys(server), 'next')).toEqual([]);
      // 30 days less the hour the new keys are published before they sign; the timer finds it by itself.
      advanceClock(86_400_000 - 3_600_000 + 1000);
      expect(kidsIn(await listKeys(server), 'next')).toEqual([]);
      await vi.advanceTimersToNextTimerAsync();
      let keys: KeyView[] = [];
      await vi.waitFor(
        async () => {
          keys = await listKeys(server);
          expect(kidsIn(keys, 'next')).toHaveLength(3);
        },
        { timeout: 20_000, interval: 20 },
      );
      const activatesAt = Date.parse(keys.find((key) => key.state === 'next')!.activates_at!);
      expect(activatesAt).toBeGreaterThanOrEqual(Date.now() + 3_590_000);
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(usingPostgres)('keys in the admin CLI', { timeout: SERVER_TEST_TIMEOUT_MS }, () => {
  it('lists the keys and starts a rotation', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-keys-cli-'));
    try {
      await seedDataDir(dataDir);
      const env = { DATA_DIR: dataDir, JWKS_CACHE_SECONDS: '60' };
      const rotated = await runAdmin(env, ['keys', 'rotate']);
      expect(rotated.stderr).toBe('');
      expect(rotated.code).toBe(0);
      expect((rotated.json.keys as KeyView[]).map((key) => key.state)).toEqual(['next', 'next', 'next', 'next']);
      const listed = await runAdmin(env, ['keys', 'list']);
      expect(listed.code).toBe(0);
      expect(
        (listed.json.keys as KeyView[])
          .filter((key) => key.kind === 'signing')
          .map((key) => key.state)
          .sort(),
      ).toEqual(['current', 'current', 'current', 'next', 'next', 'next']);
      expect(listed.stdout).not.toMatch(/"(d|sealed)"/);
      expect((await runAdmin(env, ['keys', 'rotate'])).code).toBe(1);
      // Another key-encryption key: one line, nothing rotated.
      const wrong = await runAdmin({ ...env, KEYS_ENCRYPTION_KEY: 'ab'.repeat(32) }, ['keys', 'rotate']);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/^tollgate-admin: the keys in the database do not decrypt with this key-encryption key/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!usingPostgres)('key changes across instances', { timeout: SERVER_TEST_TIMEOUT_MS }, () => {
  it('reach every instance through the invalidation bus: a rotation on one is published by the other', async () => {
    const instances = await startInstances(2);
    try {
      const [a, b] = instances.servers as [RunningServer, RunningServer];
      const rotated = await admin(a.url, 'POST', '/keys/rotate');
      expect(rotated.status).toBe(201);
      const newKids = kidsIn(rotated.body.keys as KeyView[], 'next');
      // Told, not polled: B's own schedule checks only every few seconds, and nothing is due on it.
      await waitFor(async () => newKids.every((kid) => b.app.keys.current.signing.some((key) => key.kid === kid)), 'the rotation on the other instance', {
        timeoutMs: 5000,
        intervalMs: 20,
      });
      expect(await jwksKids(b.url)).toEqual(await jwksKids(a.url));
    } finally {
      await instances.close();
    }
  });
});
