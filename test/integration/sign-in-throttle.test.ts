// Failed sign-ins: counted per user (whatever login named it), per address and per user and address;
// an address past its budget is refused, a user under attack is slowed down per address, and no
// number of wrong passwords from elsewhere keeps the right password out. Addresses vary through
// X-Forwarded-For behind a trusted proxy; time moves with the injected clock.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BrowserAgent, csrfOf, pkcePair, type PageResult } from '../helpers/browser-agent.js';
import { advanceClock } from '../helpers/clock.js';
import { auditEvents } from '../helpers/ops.js';
import { redisAvailable } from '../helpers/requirements.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, PASSWORD, REDIRECT_URI, registerAppClient, type AppClient, type TestUser, uniqueName } from '../helpers/users.js';

/** Rate limits on, and the client address taken from X-Forwarded-For. */
const LIMITED = { RATE_LIMIT_ENABLED: 'true', TRUST_PROXY: 'true' };

let tollgate: TestTollgate;
let client: AppClient;

beforeAll(async () => {
  tollgate = await startTollgate(LIMITED);
  client = await registerAppClient(tollgate.url);
});
afterAll(() => tollgate?.close());
// Date stands still in each test and moves only with advanceClock: a delay counts from the last
// failure, and on a busy machine the failures alone took longer than the first delay of 1 s.
beforeEach(() => advanceClock(0));
afterEach(() => void vi.useRealTimers());

let lastAddress = 0;
/** A documentation address (RFC 5737) no other test uses. */
const newAddress = () => `203.0.113.${++lastAddress}`;

/** Opens a new authorization's login page at `ip` and posts `login` and `password` to it. */
async function attempt(
  ip: string,
  login: string,
  password: string,
  on: { tollgate: TestTollgate; client: AppClient } = { tollgate, client },
): Promise<PageResult> {
  const agent = new BrowserAgent(on.tollgate.url, { 'x-forwarded-for': ip });
  const { challenge } = pkcePair();
  const query = new URLSearchParams({
    client_id: on.client.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'read',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const page = await agent.follow(`/auth?${query}`);
  const uid = /action="\/interaction\/([\w-]+)\/login"/.exec(page.text)![1]!;
  return agent.post(`/interaction/${uid}/login`, { csrf: csrfOf(page.text), login, password });
}

const titleOf = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];

/** A "wait and try again" page: 429, HTML, and the seconds to wait in Retry-After. */
function expectWait(answer: PageResult, seconds?: number): void {
  expect(answer.status).toBe(429);
  expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(titleOf(answer.text)).toBe('Too many attempts');
  const retryAfter = Number(answer.headers.get('retry-after'));
  if (seconds === undefined) expect(retryAfter).toBeGreaterThan(0);
  else expect(retryAfter).toBe(seconds);
}

describe('failed sign-ins from one address', () => {
  it('do not lock the user out: the right password from another address signs in at once', async () => {
    const user = await createUser(tollgate.url);
    const [attacker, owner] = [newAddress(), newAddress()];
    for (let i = 0; i < 5; i++) expect((await attempt(attacker, user.username, `wrong ${i}`)).status).toBe(401);
    // Past RATE_LIMIT_LOGIN_FAILURES_PER_USER (5) the attacker's address waits, first one second.
    expectWait(await attempt(attacker, user.username, 'wrong again'), 1);
    expect((await attempt(owner, user.username, PASSWORD)).status).toBe(303);

    const failures = (await auditEvents(tollgate.url, { subject: user.id, type: 'user.login', outcome: 'failure' })).events;
    expect(failures).toHaveLength(5);
    for (const event of failures) expect(event).toMatchObject({ source_ip: attacker, details: { reason: 'invalid_credentials' } });
    const [throttled] = (await auditEvents(tollgate.url, { subject: user.id, type: 'user.login_throttled' })).events;
    expect(throttled).toMatchObject({
      outcome: 'failure',
      source_ip: attacker,
      client_id: client.client_id,
      details: { reason: 'login_delay', retry_after: 1 },
    });
    const [success] = (await auditEvents(tollgate.url, { subject: user.id, type: 'user.login', outcome: 'success' })).events;
    expect(success).toMatchObject({ actor: user.id, source_ip: owner });
  });

  it('count against the user whatever login named it: the name and the e-mail address, in any case', async () => {
    const address = `${uniqueName('sam')}@example.com`;
    const user = await createUser(tollgate.url, { email: address });
    const ip = newAddress();
    for (const login of [user.username, ` ${address.toUpperCase()} `, user.username.toUpperCase(), address, `\t${user.username}`]) {
      expect((await attempt(ip, login, 'wrong password')).status, login).toBe(401);
    }
    // An unknown login counts against the address only.
    expect((await attempt(ip, uniqueName('nobody'), 'wrong password')).status).toBe(401);
    // Five failures against one user, from this address: it waits, the right password too.
    expectWait(await attempt(ip, address, PASSWORD), 1);
    advanceClock(1000);
    expect((await attempt(ip, address, PASSWORD)).status).toBe(303);
  });
});

describe('failed sign-ins from many addresses', () => {
  it('count an IPv6 address as its /64: a host cannot step through its own addresses', async () => {
    const user = await createUser(tollgate.url);
    for (let i = 1; i <= 5; i++) expect((await attempt(`2001:db8:0:7::${i}`, user.username, 'wrong password')).status).toBe(401);
    expectWait(await attempt('2001:db8:0:7::99', user.username, 'wrong again'), 1);
    expect((await attempt('2001:db8:0:8::1', user.username, PASSWORD)).status).toBe(303);
  });

  it('slow the user down, each address after its own last failure, with a growing delay up to a minute', async () => {
    const user = await createUser(tollgate.url);
    const addresses = [newAddress(), newAddress(), newAddress(), newAddress(), newAddress()];
    for (const ip of addresses) expect((await attempt(ip, user.username, 'wrong password')).status).toBe(401);
    // Five failures against the user: every address that fails again waits, longer each time.
    const [first] = addresses as [string];
    expect((await attempt(first, user.username, 'wrong password')).status).toBe(401);
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const refused = await attempt(first, user.username, 'wrong password');
      expectWait(refused);
      const seconds = Number(refused.headers.get('retry-after'));
      waits.push(seconds);
      advanceClock(seconds * 1000);
      expect((await attempt(first, user.username, 'wrong password')).status).toBe(401);
    }
    expect(waits).toEqual([2, 4, 8, 16, 32, 60, 60]);
    // Nobody else waits for them: a new address with the right password signs in at once.
    expect((await attempt(newAddress(), user.username, PASSWORD)).status).toBe(303);
    const throttled = (await auditEvents(tollgate.url, { subject: user.id, type: 'user.login_throttled' })).events;
    expect(throttled.map((event) => event.details.retry_after).reverse()).toEqual(waits);
  });
});

describe('the per-address budget (RATE_LIMIT_LOGIN_FAILURES_PER_IP)', () => {
  it('refuses every login from an address past it, unknown ones included, until the window ends; other addresses sign in', async () => {
    const user = await createUser(tollgate.url);
    const ip = newAddress();
    for (let i = 0; i < 20; i++) expect((await attempt(ip, `nobody-${i}`, 'wrong password')).status).toBe(401);
    const refused = await attempt(ip, user.username, PASSWORD);
    expectWait(refused);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
    expect((await attempt(newAddress(), user.username, PASSWORD)).status).toBe(303);

    const unknown = (await auditEvents(tollgate.url, { type: 'user.login', outcome: 'failure', limit: '500' })).events.filter(
      (event) => event.source_ip === ip,
    );
    expect(unknown).toHaveLength(20);
    for (const event of unknown) expect(event.subject).toBeNull();
    const [throttled] = (await auditEvents(tollgate.url, { subject: user.id, type: 'user.login_throttled' })).events;
    expect(throttled).toMatchObject({ source_ip: ip, details: { reason: 'login_failures_ip' } });

    advanceClock(901_000);
    expect((await attempt(ip, user.username, PASSWORD)).status).toBe(303);
  });

  it('records an address’s refused sign-ins in the audit trail up to that budget, then only counts them', async () => {
    const ip = newAddress();
    for (let i = 0; i < 20; i++) expect((await attempt(ip, `nobody-${i}`, 'wrong password')).status).toBe(401);
    for (let i = 0; i < 25; i++) expectWait(await attempt(ip, `nobody-${i}`, 'wrong password'));
    const throttled = (await auditEvents(tollgate.url, { type: 'user.login_throttled', limit: '500' })).events.filter((event) => event.source_ip === ip);
    expect(throttled).toHaveLength(20);
  });
});

describe('the per-user-and-address budget (RATE_LIMIT_LOGIN_FAILURES_PER_USER_IP)', () => {
  let strict: TestTollgate;
  let app: AppClient;
  beforeAll(async () => {
    strict = await startTollgate({ ...LIMITED, RATE_LIMIT_LOGIN_FAILURES_PER_USER_IP: '3' });
    app = await registerAppClient(strict.url);
  });
  afterAll(() => strict?.close());

  it('refuses that user from that address past it, the right password too; a success resets it', async () => {
    const on = { tollgate: strict, client: app };
    const [user, other]: TestUser[] = [await createUser(strict.url), await createUser(strict.url)];
    const ip = newAddress();
    for (let i = 0; i < 2; i++) expect((await attempt(ip, user!.username, 'wrong password', on)).status).toBe(401);
    expect((await attempt(ip, user!.username, PASSWORD, on)).status).toBe(303);
    for (let i = 0; i < 3; i++) expect((await attempt(ip, user!.username, 'wrong password', on)).status).toBe(401);
    const refused = await attempt(ip, user!.username, PASSWORD, on);
    expectWait(refused);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(800);
    // Only that pair: another user from this address, and this user elsewhere, sign in.
    expect((await attempt(ip, other!.username, PASSWORD, on)).status).toBe(303);
    expect((await attempt(newAddress(), user!.username, PASSWORD, on)).status).toBe(303);
    const [throttled] = (await auditEvents(strict.url, { subject: user!.id, type: 'user.login_throttled' })).events;
    expect(throttled).toMatchObject({ source_ip: ip, details: { reason: 'login_failures_user_ip' } });
  });
});

describe.skipIf(!(await redisAvailable()))('with the counts in Redis', () => {
  it('makes the failing address wait and lets another sign in, as in memory (Redis keeps its own time: no clock to move)', async () => {
    const shared = await startTollgate({ ...LIMITED, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: `tollgate-test:${randomUUID()}:` });
    try {
      const on = { tollgate: shared, client: await registerAppClient(shared.url) };
      const user = await createUser(shared.url);
      const ip = newAddress();
      for (let i = 0; i < 5; i++) expect((await attempt(ip, user.username, 'wrong password', on)).status).toBe(401);
      expectWait(await attempt(ip, user.username, PASSWORD, on), 1);
      expect((await attempt(newAddress(), user.username, PASSWORD, on)).status).toBe(303);
    } finally {
      await shared.close();
    }
  });
});
