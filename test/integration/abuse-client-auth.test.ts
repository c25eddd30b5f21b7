// Client authentication under abuse: nobody can lock a client out or spend its budgets by naming
// it, and argon2 work is bounded (a full queue answers 503 at once) and the same for every id.
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argon2Check, type HashCheck } from '../../src/clients/argon2-gate.js';
import { loadConfig } from '../../src/config/config.js';
import { auditEvents, metricsText, metricValue } from '../helpers/ops.js';
import { basic, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { authorize } from '../helpers/browser-agent.js';
import { createUser, PASSWORD, REDIRECT_URI, refresh, registerAppClient, signInForTokens } from '../helpers/users.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';

const WRONG = 'wrong-secret-0123456789';
type Method = 'basic' | 'post';

/** POST `path` from `address` (X-Forwarded-For, with TRUST_PROXY) as `id` with `secret`, by `method`. */
async function call(
  base: string,
  address: string,
  method: Method,
  id: string,
  secret: string,
  form: Record<string, string> = { grant_type: 'client_credentials' },
  path = '/token',
) {
  const body = new URLSearchParams(method === 'post' ? { ...form, client_id: id, client_secret: secret } : form).toString();
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': address,
      ...(method === 'basic' ? { authorization: basic(id, secret) } : {}),
    },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
}

const comparable = (headers: Headers) => Object.fromEntries([...headers].filter(([name]) => !['date', 'x-request-id', 'retry-after'].includes(name)));

const statusesOf = async (n: number, request: () => Promise<{ status: number }>) => {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push((await request()).status);
  return statuses;
};

/**
 * The server's own argon2 check, except that a verification against a hash named `held …` (no real
 * one is) matches only once `release` is called: how a test keeps the gate's places taken.
 */
function holdableCheck() {
  let release = () => {};
  let held = Promise.resolve();
  const check: HashCheck = (hash, presented) => (hash.startsWith('held ') ? held.then(() => true) : argon2Check(hash, presented));
  return {
    check,
    /** Holds the verifications of `held …` hashes from now until the returned function is called. */
    hold: () => {
      held = new Promise<void>((resolve) => (release = resolve));
      return () => release();
    },
  };
}

const registerFor = (tollgate: TestTollgate, method: Method) =>
  registerClient(tollgate.url, method === 'post' ? { token_endpoint_auth_method: 'client_secret_post' } : {});

describe('failure budgets count per address and per (client, address), never per client', () => {
  let tollgate: TestTollgate;
  beforeAll(async () => {
    tollgate = await startTollgate({
      RATE_LIMIT_ENABLED: 'true',
      TRUST_PROXY: 'true',
      RATE_LIMIT_CLIENT_AUTH_FAILURES: '3',
      RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP: '6',
    });
  });
  afterAll(() => tollgate?.close());

  for (const method of ['basic', 'post'] as const) {
    it(`wrong secrets from one address do not lock the client out elsewhere (${method})`, async () => {
      const victim = await registerFor(tollgate, method);
      const attacker = method === 'basic' ? '203.0.113.1' : '203.0.113.2';
      expect(await statusesOf(5, () => call(tollgate.url, attacker, method, victim.client_id, WRONG))).toEqual([401, 401, 401, 429, 429]);
      // Another address, secret not yet remembered: verified, not refused.
      expect((await call(tollgate.url, '198.51.100.1', method, victim.client_id, victim.client_secret)).status).toBe(200);
      // The attacker's address with the remembered secret: it costs nothing and proves the secret.
      expect((await call(tollgate.url, attacker, method, victim.client_id, victim.client_secret)).status).toBe(200);
      // Guesses from there are still refused, by the issuance handler as by the provider.
      const refused = await call(tollgate.url, attacker, method, victim.client_id, `${WRONG}x`);
      expect(refused.status).toBe(429);
      const provider = await call(tollgate.url, attacker, method, victim.client_id, `${WRONG}x`, undefined, '/token?via=koa');
      expect([provider.status, provider.body]).toEqual([refused.status, refused.body]);
      expect(comparable(provider.headers)).toEqual(comparable(refused.headers));
    });
  }

  it('counts an IPv6 address as its /64, as the sign-in limits do', async () => {
    const victim = await registerClient(tollgate.url);
    const guesses = await statusesOf(4, async () =>
      call(tollgate.url, `2001:db8:1:2::${Math.floor(Math.random() * 0xffff).toString(16)}`, 'basic', victim.client_id, WRONG),
    );
    expect(guesses).toEqual([401, 401, 401, 429]);
    expect((await call(tollgate.url, '2001:db8:1:3::1', 'basic', victim.client_id, victim.client_secret)).status).toBe(200);
  });

  it("an address's failure budget refuses its guesses, not a remembered secret", async () => {
    const victim = await registerClient(tollgate.url);
    const address = '203.0.113.9';
    const guesses = await statusesOf(8, async () => call(tollgate.url, address, 'basic', `nobody-${Math.random()}`, WRONG));
    expect(guesses).toEqual([401, 401, 401, 401, 401, 401, 429, 429]);
    // Not yet remembered: a verification from a spent address is refused.
    expect((await call(tollgate.url, address, 'basic', victim.client_id, victim.client_secret)).status).toBe(429);
    expect((await call(tollgate.url, '198.51.100.9', 'basic', victim.client_id, victim.client_secret)).status).toBe(200);
    // Remembered: answered without argon2, whatever the address's failures.
    expect((await call(tollgate.url, address, 'basic', victim.client_id, victim.client_secret)).status).toBe(200);
  });
});

describe("a client's request budgets count its authenticated requests only", () => {
  let tollgate: TestTollgate;
  beforeAll(async () => {
    tollgate = await startTollgate({
      RATE_LIMIT_ENABLED: 'true',
      TRUST_PROXY: 'true',
      RATE_LIMIT_TOKEN_PER_CLIENT: '3',
      RATE_LIMIT_INTROSPECT_PER_CLIENT: '2',
      RATE_LIMIT_CLIENT_AUTH_FAILURES: '1000',
      RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP: '1000',
    });
  });
  afterAll(() => tollgate?.close());

  for (const method of ['basic', 'post'] as const) {
    it(`requests naming the client without its secret do not spend its budget (${method})`, async () => {
      const victim = await registerFor(tollgate, method);
      const attacker = method === 'basic' ? '203.0.113.21' : '203.0.113.22';
      const junk = await statusesOf(6, async () => {
        const response = await fetch(`${tollgate.url}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': attacker, authorization: basic(victim.client_id, WRONG) },
          body: JSON.stringify({ grant_type: 'client_credentials', client_id: victim.client_id, client_secret: WRONG }),
        });
        await response.arrayBuffer();
        return response;
      });
      expect(junk.every((status) => status === 400 || status === 401)).toBe(true);
      expect(await statusesOf(4, () => call(tollgate.url, attacker, method, victim.client_id, WRONG))).toEqual([401, 401, 401, 401]);
      // Its own budget is whole, and still counts what it does.
      expect(await statusesOf(4, () => call(tollgate.url, '198.51.100.21', method, victim.client_id, victim.client_secret))).toEqual([200, 200, 200, 429]);
    });
  }

  it('introspection counts the authenticated caller only', async () => {
    const server = await registerClient(tollgate.url, { resource_server: true });
    const form = { token: 'x'.repeat(43) };
    expect(await statusesOf(3, () => call(tollgate.url, '203.0.113.23', 'basic', server.client_id, WRONG, form, '/introspect'))).toEqual([401, 401, 401]);
    expect(await statusesOf(3, () => call(tollgate.url, '198.51.100.23', 'basic', server.client_id, server.client_secret, form, '/introspect'))).toEqual([
      200, 200, 429,
    ]);
  });
});

describe('a public client (no secret) spends its budget per address once the provider has found it', () => {
  it('at the token and revocation endpoints', async () => {
    const tollgate = await startTollgate({
      RATE_LIMIT_ENABLED: 'true',
      TRUST_PROXY: 'true',
      RATE_LIMIT_TOKEN_PER_CLIENT: '3',
      RATE_LIMIT_REVOKE_PER_CLIENT: '2',
    });
    try {
      const app = await registerAppClient(tollgate.url);
      expect(await statusesOf(4, () => refresh(tollgate.url, app, 'no-such-refresh-token'))).toEqual([400, 400, 400, 429]);
      const revoke = () => postForm(tollgate.url, '/revoke', { client_id: app.client_id, token: 'x'.repeat(43) });
      expect(await statusesOf(3, revoke)).toEqual([200, 200, 429]);
      // Anyone can name a public client: the budget it spent from one address is not another's.
      const revokeFrom = (address: string) => () =>
        fetch(`${tollgate.url}/revoke`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
          body: new URLSearchParams({ client_id: app.client_id, token: 'x'.repeat(43) }),
        });
      expect(await statusesOf(3, revokeFrom('198.51.100.25'))).toEqual([200, 200, 429]);
    } finally {
      await tollgate.close();
    }
  });
});

describe('failed requests of callers that did not authenticate in the audit trail', () => {
  let tollgate: TestTollgate;
  beforeAll(async () => {
    tollgate = await startTollgate({ RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: 'true', RATE_LIMIT_AUDITED_FAILURES_PER_IP: '2', AUDIT_FLUSH_INTERVAL_MS: '10' });
  });
  afterAll(() => tollgate?.close());

  it('are recorded per address up to its budget, then counted', async () => {
    const victim = await registerClient(tollgate.url);
    const attacker = '203.0.113.24';
    await statusesOf(5, () => call(tollgate.url, attacker, 'basic', victim.client_id, WRONG));
    await statusesOf(2, () => call(tollgate.url, attacker, 'basic', 'nobody', WRONG));
    const failures = async () =>
      (await auditEvents(tollgate.url, { type: 'token.request_failed', outcome: 'failure', limit: '100' })).events.filter((e) => e.source_ip === attacker);
    await waitFor(async () => (await failures()).length >= 2, 'the audited failures');
    // A request that writes an audit row later flushes the queue: nothing more from the attacker.
    expect((await call(tollgate.url, '198.51.100.24', 'basic', victim.client_id, victim.client_secret)).status).toBe(200);
    await waitFor(async () => (await auditEvents(tollgate.url, { type: 'token.issued', client_id: victim.client_id })).events.length === 1, 'the issuance row');
    expect((await failures()).length).toBe(2);
    const metrics = await metricsText(tollgate.url);
    expect(metricValue(metrics, 'tollgate_rate_limit_rejections_total', { limit: 'audited_failures_ip' })).toBeGreaterThanOrEqual(5);
    expect(
      tollgate.logs.filter(
        (line) => line.msg === 'audit: failed requests from this address are no longer recorded until the window ends' && line.ip === attacker,
      ),
    ).toHaveLength(1);
  });
});

describe('argon2 work is bounded and the same for every client id', () => {
  let tollgate: TestTollgate;
  let remembered: RegisteredClient;
  let victim: RegisteredClient;
  const verifications = async () => metricValue(await metricsText(tollgate.url), 'tollgate_argon2_verifications_total') ?? 0;
  const holdable = holdableCheck();

  beforeAll(async () => {
    tollgate = await startTollgate({ TRUST_PROXY: 'true', ARGON2_CONCURRENCY: '1', ARGON2_QUEUE_MAX: '2' }, undefined, { hashCheck: holdable.check });
    remembered = await registerClient(tollgate.url);
    victim = await registerClient(tollgate.url, { token_endpoint_auth_method: 'client_secret_basic' });
    expect((await call(tollgate.url, '198.51.100.31', 'basic', remembered.client_id, remembered.client_secret)).status).toBe(200);
  });
  afterAll(() => tollgate?.close());

  it('leaves one core to the event loop and lets 16 wait by default', () => {
    expect(loadConfig({}).argon2).toEqual({ concurrency: Math.max(1, availableParallelism() - 1), queueMax: 16 });
    expect(loadConfig({ ARGON2_CONCURRENCY: '3', ARGON2_QUEUE_MAX: '0' }).argon2).toEqual({ concurrency: 3, queueMax: 0 });
    expect(loadConfig({}).rateLimit).toMatchObject({ clientAuthFailures: 20, clientAuthFailuresPerIp: 50, auditedFailuresPerIp: 60 });
  });

  it('an unknown client id costs one verification, as a known one with a wrong secret does', async () => {
    const post = await registerClient(tollgate.url, { token_endpoint_auth_method: 'client_secret_post' });
    const publicClient = await registerAppClient(tollgate.url);
    const cases: [Method, string][] = [
      ['basic', victim.client_id],
      ['basic', 'nobody-at-all'],
      ['post', post.client_id],
      ['post', 'nobody-at-all'],
      // Registered for another method, or for none at all: a secret is checked against the dummy all the same.
      ['basic', post.client_id],
      ['basic', publicClient.client_id],
      ['post', publicClient.client_id],
    ];
    for (const [method, id] of cases) {
      const before = await verifications();
      expect((await call(tollgate.url, '198.51.100.32', method, id, WRONG)).status).toBe(401);
      expect({ method, id, verifications: (await verifications()) - before }).toEqual({ method, id, verifications: 1 });
    }
    const before = await verifications();
    expect((await call(tollgate.url, '198.51.100.32', 'basic', remembered.client_id, remembered.client_secret)).status).toBe(200);
    expect(await verifications()).toBe(before);
  });

  it('sign-in passwords pass the same gate, an unknown user name as one verification too', async () => {
    const app = await registerAppClient(tollgate.url);
    const user = await createUser(tollgate.url);
    let before = await verifications();
    await signInForTokens(tollgate.url, { client: app, user });
    expect((await verifications()) - before).toBe(1);
    before = await verifications();
    const unknown = authorize(tollgate.url, { clientId: app.client_id, redirectUri: REDIRECT_URI, scope: 'read', login: 'nobody-at-all', password: PASSWORD });
    await expect(unknown).rejects.toThrow(/sign-in failed: 401/);
    expect((await verifications()) - before).toBe(1);
  });

  it('a full queue answers 503 temporarily_unavailable at once, while a remembered secret is answered', async () => {
    const app = await registerAppClient(tollgate.url);
    const user = await createUser(tollgate.url);
    const gate = tollgate.running.app.argon2;
    const release = holdable.hold();
    // One verification running and two queued, on hashes with no failure (which nothing displaces): the gate is full.
    const held = [1, 2, 3].map((n) => gate.verify(`held hash ${n}`, 'presented'));
    try {
      for (const [method, id] of [
        ['basic', victim.client_id],
        ['post', victim.client_id],
        ['basic', 'nobody-at-all'],
      ] as [Method, string][]) {
        const refused = await call(tollgate.url, '203.0.113.31', method, id, WRONG);
        expect(refused.status).toBe(503);
        expect(refused.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      // The issuance handler's answer and the provider's (a query leaves the request to it) agree.
      const form = { grant_type: 'client_credentials' };
      const [handler, provider] = [
        await call(tollgate.url, '203.0.113.31', 'basic', victim.client_id, WRONG, form, '/token'),
        await call(tollgate.url, '203.0.113.31', 'basic', victim.client_id, WRONG, form, '/token?via=koa'),
      ];
      expect([provider.status, provider.body]).toEqual([handler.status, handler.body]);
      expect(comparable(provider.headers)).toEqual(comparable(handler.headers));
      expect((await call(tollgate.url, '198.51.100.33', 'basic', remembered.client_id, remembered.client_secret)).status).toBe(200);
      // A person signing in meanwhile gets a page asking to try again, not a JSON body.
      const signIn = authorize(tollgate.url, { clientId: app.client_id, redirectUri: REDIRECT_URI, scope: 'read', login: user.username, password: PASSWORD });
      await expect(signIn).rejects.toThrow(/sign-in failed: 503 <!doctype html>/i);
      const metrics = await metricsText(tollgate.url);
      expect(metricValue(metrics, 'tollgate_argon2_refusals_total')).toBe(6);
    } finally {
      release();
      await Promise.all(held);
    }
    expect((await call(tollgate.url, '198.51.100.33', 'basic', victim.client_id, WRONG)).status).toBe(401);
    expect((await call(tollgate.url, '198.51.100.33', 'basic', victim.client_id, victim.client_secret)).status).toBe(200);
  });
});

describe('a flood of wrong secrets from many addresses does not starve a new client', () => {
  let tollgate: TestTollgate;
  const holdable = holdableCheck();
  beforeAll(async () => {
    tollgate = await startTollgate({ RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: 'true', ARGON2_CONCURRENCY: '1', ARGON2_QUEUE_MAX: '4' }, undefined, {
      hashCheck: holdable.check,
    });
  });
  afterAll(() => tollgate?.close());

  it('a client whose secret is not yet remembered gets its first token on its first try while guesses fill the gate', async () => {
    const gate = tollgate.running.app.argon2;
    const guessed = await Promise.all([1, 2, 3].map(() => registerClient(tollgate.url)));
    const newcomers = await Promise.all([1, 2, 3].map(() => registerClient(tollgate.url)));
    // Each guessed client has had a wrong secret already: the flood is on hashes that failed.
    for (const client of guessed) expect((await call(tollgate.url, '203.0.113.40', 'basic', client.client_id, WRONG)).status).toBe(401);

    const tries = new Map<string, number[]>();
    const floodAnswers: number[] = [];
    for (const [n, newcomer] of newcomers.entries()) {
      const statuses: number[] = [];
      tries.set(`newcomer ${n}`, statuses);
      while (statuses.at(-1) !== 200 && statuses.length < 5) {
        const round = `${n}.${statuses.length}`;
        // One verification held running, and a flood from 24 addresses: 4 guesses wait, 20 are refused at once.
        const release = holdable.hold();
        const held = gate.verify('held hash', 'presented');
        const answered: number[] = [];
        const flood = Array.from({ length: 24 }, (_, i) => {
          const id = i % 4 === 3 ? `nobody-${i}` : guessed[i % 4]!.client_id;
          return call(tollgate.url, `10.${round}.${i}`, i % 2 ? 'basic' : 'post', id, `${WRONG}${i}`).then(({ status }) => void answered.push(status));
        });
        await waitFor(() => answered.length === 20 && gate.queued === 4, 'the flood to fill the gate');
        const refusals = gate.stats.refusals;
        const attempt = call(tollgate.url, `198.51.100.4${n}`, 'basic', newcomer.client_id, newcomer.client_secret);
        // Refused at once, or in line in place of a guess, which is refused instead.
        await waitFor(() => gate.stats.refusals > refusals, "the newcomer's place in line");
        release();
        statuses.push((await attempt).status);
        await Promise.all([held, ...flood]);
        floodAnswers.push(...answered);
      }
    }
    expect(Object.fromEntries(tries)).toEqual({ 'newcomer 0': [200], 'newcomer 1': [200], 'newcomer 2': [200] });
    // Every guess was answered 401 or refused, none let through.
    expect(new Set(floodAnswers)).toEqual(new Set([401, 503]));
  });
});
