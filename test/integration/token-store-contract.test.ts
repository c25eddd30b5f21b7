// The token store's contract on a real database: PGlite, or PostgreSQL when DATABASE_URL is set
// (CI runs both). Every case drives the store through its clock, never the process's.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { TokenStore, type Entry } from '../../src/tokens/store/token-store.js';
import { openTestDatabase } from '../helpers/tollgate.js';

let db: Database;
let dispose: () => Promise<void>;

beforeAll(async () => {
  ({ db, dispose } = await openTestDatabase());
  await db.migrate();
});
afterAll(() => dispose?.());

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const newId = (prefix = 'id') => `${prefix}-${randomUUID()}`;

/** A store on its own clock, which only `advance` moves. */
function storeWithClock() {
  let now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const store = new TokenStore(db, { now: () => now });
  return {
    store,
    seconds: () => now.getTime() / 1000,
    advance(seconds: number) {
      now = new Date(now.getTime() + seconds * 1000);
    },
  };
}

function token(kind: string, extra: Entry = {}): Entry {
  return { kind, clientId: 'client-1', scope: 'read', ...extra };
}

async function storedRows(column: 'id' | 'client_id' | 'grant_id', value: string) {
  return db.sql(`test_rows_${column}`, `SELECT * FROM oidc_payloads WHERE ${column} = $1`, [value]);
}

/** Stores one entry of `kind` per model and returns [model, id] pairs. */
async function storeEach(store: TokenStore, models: string[], extra: Entry): Promise<[string, string][]> {
  const stored = models.map((model) => [model, newId()] as [string, string]);
  await Promise.all(stored.map(([model, id]) => store.upsert(model, id, token(model, extra), 600)));
  return stored;
}

async function liveOf(store: TokenStore, entries: [string, string][]) {
  return Promise.all(entries.map(async ([model, id]) => (await store.find(model, id)) !== undefined));
}

describe('upsert and find', () => {
  it('gives back what was stored, with jti restored, and nothing for an unknown id', async () => {
    const { store } = storeWithClock();
    const id = newId();
    const entry = token('AccessToken', { jti: id, extra: { sub: 'client-1' }, 'x5t#S256': 'thumbprint' });
    await store.upsert('AccessToken', id, entry, 300);
    expect(await store.find('AccessToken', id)).toEqual(entry);
    expect(await store.find('AccessToken', newId())).toBeUndefined();
  });

  it('replaces an entry on a second upsert, keeping one row with the new columns', async () => {
    const { store } = storeWithClock();
    const id = newId();
    await store.upsert('Grant', id, { kind: 'Grant', clientId: 'client-1', accountId: 'a' }, 600);
    await store.upsert('Grant', id, { kind: 'Grant', clientId: 'client-2', accountId: 'b' }, 600);
    expect(await store.find('Grant', id)).toMatchObject({ jti: id, clientId: 'client-2', accountId: 'b' });
    const rows = await storedRows('id', sha256(id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ client_id: 'client-2', account_id: 'b', grant_id: id });
  });

  it('stores many concurrent upserts, each once, the later of two writes to one id winning', async () => {
    const { store } = storeWithClock();
    const ids = Array.from({ length: 200 }, () => newId('concurrent'));
    const twice = newId();
    await Promise.all([
      ...ids.map((id) => store.upsert('ClientCredentials', id, token('ClientCredentials'), 60)),
      store.upsert('ClientCredentials', twice, { n: 1 }, 60),
      store.upsert('ClientCredentials', twice, { n: 2 }, 60),
      store.upsert('AccessToken', twice, { n: 3 }, 60),
    ]);
    expect(
      (
        await liveOf(
          store,
          ids.map((id) => ['ClientCredentials', id]),
        )
      ).every(Boolean),
    ).toBe(true);
    expect(await store.find('ClientCredentials', twice)).toEqual({ n: 2, jti: twice });
    expect(await store.find('AccessToken', twice)).toEqual({ n: 3, jti: twice });
  });

  it('finds an entry while it lives, and forever without an expiry', async () => {
    const { store, advance } = storeWithClock();
    const [expiring, lasting] = [newId(), newId()];
    await store.upsert('AccessToken', expiring, token('AccessToken'), 60);
    await store.upsert('AccessToken', lasting, token('AccessToken'));
    expect(await store.find('AccessToken', expiring)).toBeDefined();
    advance(61);
    expect(await store.find('AccessToken', expiring)).toBeUndefined();
    expect(await store.find('AccessToken', lasting)).toBeDefined();
  });

  it('keeps models apart: the same id under two models is two entries', async () => {
    const { store } = storeWithClock();
    const id = newId();
    await store.upsert('AccessToken', id, token('AccessToken', { scope: 'token-scope' }), 300);
    await store.upsert('AuthorizationCode', id, token('AuthorizationCode', { scope: 'code-scope' }), 300);
    await store.consumeOnce('AuthorizationCode', id);
    await store.destroy('AuthorizationCode', id);
    expect(await store.find('AuthorizationCode', id)).toBeUndefined();
    expect(await store.find('AccessToken', id)).toEqual(token('AccessToken', { scope: 'token-scope', jti: id }));
  });

  it('finds by uid and by user code within the model, live entries only', async () => {
    const { store, advance } = storeWithClock();
    const [uid, userCode] = [newId('uid'), `${randomUUID().slice(0, 4)}-${randomUUID().slice(0, 4)}`];
    await store.upsert('Session', newId(), { kind: 'Session', uid, accountId: 'alice' }, 600);
    await store.upsert('DeviceCode', newId(), { kind: 'DeviceCode', userCode, clientId: 'client-1' }, 60);
    expect(await store.findByUid('Session', uid)).toEqual({ kind: 'Session', uid, accountId: 'alice' });
    expect(await store.findByUserCode('DeviceCode', userCode)).toMatchObject({ kind: 'DeviceCode', userCode });
    expect(await store.findByUid('DeviceCode', uid)).toBeUndefined();
    expect(await store.findByUserCode('Session', userCode)).toBeUndefined();
    expect(await store.findByUid('Session', newId('uid'))).toBeUndefined();

    advance(61);
    expect(await store.findByUserCode('DeviceCode', userCode)).toBeUndefined();
    await store.destroyByUid('Session', uid);
    expect(await store.findByUid('Session', uid)).toBeUndefined();
  });

  it('tells whether a live introspectable token has a hashed value', async () => {
    const { store, advance } = storeWithClock();
    const [access, refresh, session] = [newId(), newId(), newId()];
    await store.upsert('AccessToken', access, token('AccessToken'), 60);
    await store.upsert('RefreshToken', refresh, token('RefreshToken'));
    await store.upsert('Session', session, { kind: 'Session' }, 600);
    expect(await store.liveTokenExists(sha256(access))).toBe(true);
    expect(await store.liveTokenExists(sha256(refresh))).toBe(true);
    expect(await store.liveTokenExists(sha256(session))).toBe(false);
    expect(await store.liveTokenExists(access)).toBe(false);
    advance(61);
    expect(await store.liveTokenExists(sha256(access))).toBe(false);
  });
});

describe('one-time use', () => {
  it('lets exactly one of many concurrent consumers consume, and keeps the first time', async () => {
    const { store, advance, seconds } = storeWithClock();
    const id = newId();
    await store.upsert('RefreshToken', id, token('RefreshToken'), 600);
    expect(await store.find('RefreshToken', id)).not.toHaveProperty('consumed');

    const results = await Promise.all(Array.from({ length: 20 }, () => store.consumeOnce('RefreshToken', id)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const first = seconds();
    expect((await store.find('RefreshToken', id))?.consumed).toBe(first);

    advance(10);
    expect(await store.consumeOnce('RefreshToken', id)).toBe(false);
    expect((await store.find('RefreshToken', id))?.consumed).toBe(first);
    expect(await store.consumeOnce('RefreshToken', newId())).toBe(false);
  });

  it('inserts if absent for exactly one of many concurrent callers, and takes over an expired entry once', async () => {
    const { store, advance } = storeWithClock();
    const id = newId();
    const attempt = () => Promise.all(Array.from({ length: 20 }, () => store.insertIfAbsent('ReplayDetection', id, { kind: 'ReplayDetection', iss: 'c' }, 30)));
    expect((await attempt()).filter(Boolean)).toHaveLength(1);
    expect(await store.insertIfAbsent('ReplayDetection', id, { kind: 'ReplayDetection' }, 30)).toBe(false);

    advance(31);
    expect((await attempt()).filter(Boolean)).toHaveLength(1);
    expect(await store.find('ReplayDetection', id)).toEqual({ kind: 'ReplayDetection', iss: 'c', jti: id });
  });

  it('spends a grace period once, within its window, superseding the successor', async () => {
    const { store, advance } = storeWithClock();
    const [first, successor, late] = [newId(), newId(), newId()];
    for (const id of [first, successor, late]) await store.upsert('RefreshToken', id, token('RefreshToken'), 600);
    expect(await store.claimGrace(first, 10)).toBe(false); // not consumed yet

    await store.consumeOnce('RefreshToken', first);
    expect(await store.linkSuccessor(first, successor)).toBe(true);
    advance(5);
    expect(await store.claimGrace(first, 10)).toBe(true);
    expect(await store.claimGrace(first, 10)).toBe(false);
    expect(await store.linkSuccessor(first, newId())).toBe(false);
    expect((await store.find('RefreshToken', successor))?.consumed).toEqual(expect.any(Number));
    expect(await store.consumeOnce('RefreshToken', successor)).toBe(false);

    await store.consumeOnce('RefreshToken', late);
    advance(11);
    expect(await store.claimGrace(late, 10)).toBe(false);
  });

  it('lets exactly one of many concurrent retries spend the grace period', async () => {
    const { store } = storeWithClock();
    const id = newId();
    await store.upsert('RefreshToken', id, token('RefreshToken'), 600);
    await store.consumeOnce('RefreshToken', id);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.claimGrace(id, 10)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('refuses the grace period once the successor was used', async () => {
    const { store } = storeWithClock();
    const [first, successor] = [newId(), newId()];
    for (const id of [first, successor]) await store.upsert('RefreshToken', id, token('RefreshToken'), 600);
    await store.consumeOnce('RefreshToken', first);
    await store.linkSuccessor(first, successor);
    await store.consumeOnce('RefreshToken', successor);
    expect(await store.claimGrace(first, 10)).toBe(false);
  });
});

describe('revocation and cleanup', () => {
  const MODELS = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest'];

  it('ends a grant: the grant and every entry it issued, nothing else', async () => {
    const { store } = storeWithClock();
    const [grantId, otherGrant] = [newId('grant'), newId('grant')];
    await store.upsert('Grant', grantId, { kind: 'Grant', clientId: 'client-1', accountId: 'a' }, 600);
    const ofGrant = await storeEach(store, MODELS, { grantId });
    const others = [...(await storeEach(store, MODELS, { grantId: otherGrant })), ...(await storeEach(store, MODELS, {}))];

    await store.revokeGrant(grantId);
    expect(await store.find('Grant', grantId)).toBeUndefined();
    expect(await liveOf(store, ofGrant)).not.toContain(true);
    expect(await liveOf(store, others)).not.toContain(false);
    expect(await storedRows('grant_id', grantId)).toHaveLength(0);
  });

  it('ends everything of a client, returning its grants, and joins a caller’s transaction', async () => {
    const { store } = storeWithClock();
    const [clientId, grantId] = [newId('client'), newId('grant')];
    const ofClient = [...(await storeEach(store, MODELS, { clientId, grantId })), ...(await storeEach(store, ['ClientCredentials'], { clientId }))];
    const others = await storeEach(store, MODELS, { clientId: newId('client'), grantId });

    const rolledBack = db.prisma.$transaction(async (tx) => {
      expect(await store.revokeByClient(clientId, tx)).toEqual([grantId]);
      throw new Error('the caller changed its mind');
    });
    await expect(rolledBack).rejects.toThrow('the caller changed its mind');
    expect(await liveOf(store, ofClient)).not.toContain(false);

    expect(await store.revokeByClient(clientId)).toEqual([grantId]);
    expect(await liveOf(store, ofClient)).not.toContain(true);
    expect(await liveOf(store, others)).not.toContain(false);
  });

  it('ends everything of a user, or only what the user gave one client, returning the grants', async () => {
    const { store } = storeWithClock();
    const [accountId, clientA, clientB] = [newId('user'), newId('client'), newId('client')];
    const [grantA, grantB] = [newId('grant'), newId('grant')];
    const ofA = await storeEach(store, ['Grant', ...MODELS], { accountId, clientId: clientA, grantId: grantA });
    const ofB = await storeEach(store, ['Grant', ...MODELS], { accountId, clientId: clientB, grantId: grantB });
    const session = await storeEach(store, ['Session'], { accountId });
    const someoneElse = await storeEach(store, MODELS, { accountId: newId('user'), clientId: clientA, grantId: newId('grant') });

    expect(await store.revokeByAccount(accountId, { clientId: clientA })).toEqual([grantA]);
    expect(await liveOf(store, ofA)).not.toContain(true);
    expect(await liveOf(store, [...ofB, ...session])).not.toContain(false);

    expect(await store.revokeByAccount(accountId)).toEqual([grantB]);
    expect(await liveOf(store, [...ofB, ...session])).not.toContain(true);
    expect(await liveOf(store, someoneElse)).not.toContain(false);
  });

  it('ends a user’s sign-in sessions only', async () => {
    const { store } = storeWithClock();
    const accountId = newId('user');
    const sessions = await storeEach(store, ['Session', 'Session'], { accountId });
    const tokens = await storeEach(store, MODELS, { accountId });
    await store.endSessions(accountId);
    expect(await liveOf(store, sessions)).not.toContain(true);
    expect(await liveOf(store, tokens)).not.toContain(false);
  });

  it('deletes expired entries only', async () => {
    const { store, advance } = storeWithClock();
    const [expiring, lasting, forever] = [newId(), newId(), newId()];
    await store.upsert('AccessToken', expiring, token('AccessToken'), 60);
    await store.upsert('AccessToken', lasting, token('AccessToken'), 600);
    await store.upsert('Grant', forever, { kind: 'Grant' });
    advance(61);
    expect(await store.deleteExpired()).toBeGreaterThanOrEqual(1);
    expect(await storedRows('id', sha256(expiring))).toHaveLength(0);
    expect(await storedRows('id', sha256(lasting))).toHaveLength(1);
    expect(await storedRows('id', sha256(forever))).toHaveLength(1);
  });
});

describe('what the table holds', () => {
  it('keeps identifiers only as SHA-256 hashes, uids and user codes hashed in their columns, and no jti in the payload', async () => {
    const { store } = storeWithClock();
    const [sessionId, uid, deviceId, userCode, replayId] = [newId(), newId('uid'), newId(), 'BCDF-GHJK', newId()];
    await store.upsert('Session', sessionId, { jti: sessionId, kind: 'Session', uid, accountId: 'alice' }, 600);
    await store.upsert('DeviceCode', deviceId, { jti: deviceId, kind: 'DeviceCode', userCode }, 600);
    await store.insertIfAbsent('ReplayDetection', replayId, { jti: replayId, kind: 'ReplayDetection' }, 60);

    const [session] = await storedRows('id', sha256(sessionId));
    expect(session).toMatchObject({ uid: sha256(uid) });
    const [deviceCode] = await storedRows('id', sha256(deviceId));
    expect(deviceCode).toMatchObject({ user_code: sha256(userCode) });
    for (const row of [session, deviceCode, ...(await storedRows('id', sha256(replayId)))]) expect(row?.payload).not.toHaveProperty('jti');

    const everything = JSON.stringify(await db.sql('test_everything', 'SELECT * FROM oidc_payloads', []));
    for (const raw of [sessionId, deviceId, replayId]) expect(everything).not.toContain(raw);
  });
});
