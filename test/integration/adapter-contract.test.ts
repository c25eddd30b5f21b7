// oidc-provider's adapter contract, as the provider calls it, on StoreAdapter over a real database
// (PGlite, or PostgreSQL when DATABASE_URL is set). The store beneath has its own contract suite
// (token-store-contract.test.ts); this checks the shim passes each call through to it.
import { randomUUID } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { StoreAdapter } from '../../src/oidc/adapter.js';
import { TokenStore } from '../../src/tokens/store/token-store.js';
import { openTestDatabase } from '../helpers/tollgate.js';

let db: Database;
let dispose: () => Promise<void>;
let tokens: TokenStore;

beforeAll(async () => {
  ({ db, dispose } = await openTestDatabase());
  await db.migrate();
  tokens = new TokenStore(db);
});
afterAll(() => dispose?.());

const newId = () => `id-${randomUUID()}`;
const now = () => Math.floor(Date.now() / 1000);
const adapter = (model: string) => new StoreAdapter(tokens, model);

function payload(kind: string, id: string, extra: Partial<AdapterPayload> = {}): AdapterPayload {
  return { jti: id, kind, clientId: 'client-1', grantId: 'grant-0', scope: 'read', iat: now(), exp: now() + 300, ...extra };
}

describe('StoreAdapter', () => {
  it('gives back what was stored, as JSON, with jti restored from the id; destroys it', async () => {
    const accessTokens = adapter('AccessToken');
    const id = newId();
    const stored = payload('AccessToken', id, { extra: { sub: 'client-1' }, 'x5t#S256': 'thumbprint' });
    await accessTokens.upsert(id, stored, 300);
    expect(await accessTokens.find(id)).toEqual(JSON.parse(JSON.stringify(stored)));
    await accessTokens.destroy(id);
    expect(await accessTokens.find(id)).toBeUndefined();
    await accessTokens.destroy(newId()); // an unknown id is not an error
  });

  it('consumes once: consume() marks the entry, consumeOnce() tells the one caller that did', async () => {
    const codes = adapter('AuthorizationCode');
    const [id, other] = [newId(), newId()];
    await codes.upsert(id, payload('AuthorizationCode', id), 60);
    await codes.upsert(other, payload('AuthorizationCode', other), 60);
    await codes.consume(id);
    expect((await codes.find(id))?.consumed).toEqual(expect.any(Number));
    expect(await Promise.all([codes.consumeOnce(other), codes.consumeOnce(other)])).toEqual(expect.arrayContaining([true, false]));
  });

  it('finds and destroys by uid, finds by user code, and revokes by grant id', async () => {
    const [sessions, deviceCodes, refreshTokens] = [adapter('Session'), adapter('DeviceCode'), adapter('RefreshToken')];
    const [uid, userCode, grantId, refresh] = [`uid-${randomUUID()}`, 'WDJB-MJHT', `grant-${randomUUID()}`, newId()];
    await sessions.upsert(newId(), { kind: 'Session', uid, accountId: 'alice', exp: now() + 600 }, 600);
    await deviceCodes.upsert(newId(), { kind: 'DeviceCode', userCode, clientId: 'client-1', exp: now() + 600 }, 600);
    await refreshTokens.upsert(refresh, payload('RefreshToken', refresh, { grantId }), 600);

    expect(await sessions.findByUid(uid)).toMatchObject({ kind: 'Session', uid, accountId: 'alice' });
    expect(await deviceCodes.findByUserCode(userCode)).toMatchObject({ kind: 'DeviceCode', userCode });
    await sessions.destroyByUid(uid);
    expect(await sessions.findByUid(uid)).toBeUndefined();
    await adapter('AccessToken').revokeByGrantId(grantId);
    expect(await refreshTokens.find(refresh)).toBeUndefined();
  });

  it('stores a DPoP proof id once: insertIfAbsent is true only for the first', async () => {
    const replays = adapter('ReplayDetection');
    const id = newId();
    const entry = { kind: 'ReplayDetection', iss: 'client-1', exp: now() + 60 };
    expect(await replays.insertIfAbsent(id, entry, 60)).toBe(true);
    expect(await replays.insertIfAbsent(id, entry, 60)).toBe(false);
  });
});
