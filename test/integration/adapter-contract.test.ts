// oidc-provider's adapter contract, checked on PrismaAdapter against a real database (PGlite, or
// PostgreSQL when DATABASE_URL is set), plus what it promises beyond it: identifiers stored hashed.
import { createHash, randomUUID } from 'node:crypto';
import type { AdapterPayload } from 'oidc-provider';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { PrismaAdapter } from '../../src/oidc/adapter.js';
import { openTestDatabase } from '../helpers/tollgate.js';

let db: Database;
let dispose: () => Promise<void>;

beforeAll(async () => {
  ({ db, dispose } = await openTestDatabase());
});
afterAll(() => dispose?.());
afterEach(() => {
  vi.useRealTimers();
});

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const newId = () => `id-${randomUUID()}`;
const now = () => Math.floor(Date.now() / 1000);

function accessToken(id: string, extra: Partial<AdapterPayload> = {}): AdapterPayload {
  return { jti: id, kind: 'AccessToken', clientId: 'client-1', grantId: 'grant-0', scope: 'read', iat: now(), exp: now() + 300, ...extra };
}

const storedRow = (model: string, id: string) => db.prisma.oidcPayload.findUnique({ where: { model_id: { model, id: sha256(id) } } });

describe('PrismaAdapter', () => {
  it('gives back what was stored, with jti restored from the id', async () => {
    const adapter = new PrismaAdapter(db, 'AccessToken');
    const id = newId();
    const payload = accessToken(id, { extra: { sub: 'client-1' }, 'x5t#S256': 'thumbprint' });
    await adapter.upsert(id, payload, 300);
    expect(await adapter.find(id)).toEqual(JSON.parse(JSON.stringify(payload)));
    expect(await adapter.find(newId())).toBeUndefined();
  });

  it('finds nothing once the entry has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const adapter = new PrismaAdapter(db, 'AccessToken');
    const [expiring, lasting] = [newId(), newId()];
    await adapter.upsert(expiring, accessToken(expiring), 60);
    await adapter.upsert(lasting, accessToken(lasting));
    expect(await adapter.find(expiring)).toBeDefined();

    vi.setSystemTime(Date.now() + 61_000);
    expect(await adapter.find(expiring)).toBeUndefined();
    // Without expiresIn an entry does not expire.
    expect(await adapter.find(lasting)).toBeDefined();
  });

  it('overwrites on a second upsert of the same id', async () => {
    const adapter = new PrismaAdapter(db, 'Grant');
    const id = newId();
    await adapter.upsert(id, { jti: id, kind: 'Grant', clientId: 'client-1', accountId: 'a', iat: now(), exp: now() + 600 }, 600);
    await adapter.upsert(id, { jti: id, kind: 'Grant', clientId: 'client-2', accountId: 'b', iat: now(), exp: now() + 600 }, 600);
    expect(await adapter.find(id)).toMatchObject({ jti: id, clientId: 'client-2', accountId: 'b' });
    expect(await db.prisma.oidcPayload.count({ where: { model: 'Grant', id: sha256(id) } })).toBe(1);
    expect((await storedRow('Grant', id))?.clientId).toBe('client-2');
  });

  it('marks an entry consumed once: a second consume keeps the first time', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const adapter = new PrismaAdapter(db, 'AuthorizationCode');
    const id = newId();
    await adapter.upsert(id, { ...accessToken(id), kind: 'AuthorizationCode' }, 60);
    expect(await adapter.find(id)).not.toHaveProperty('consumed');

    await adapter.consume(id);
    const first = (await adapter.find(id))?.consumed;
    expect(first).toBe(now());

    vi.setSystemTime(Date.now() + 10_000);
    await adapter.consume(id);
    expect((await adapter.find(id))?.consumed).toBe(first);
  });

  it('lets exactly one of ten concurrent consume calls update the row', async () => {
    // The real database, observed: every updateMany's row count is recorded.
    const counts: number[] = [];
    const observed = db.prisma.$extends({
      query: {
        oidcPayload: {
          async updateMany({ args, query }) {
            const result = await query(args);
            counts.push(result.count);
            return result;
          },
        },
      },
    });
    const adapter = new PrismaAdapter({ ...db, prisma: observed as unknown as Database['prisma'] }, 'RefreshToken');
    const id = newId();
    await adapter.upsert(id, { ...accessToken(id), kind: 'RefreshToken' }, 600);

    await Promise.all(Array.from({ length: 10 }, () => adapter.consume(id)));
    expect(counts).toHaveLength(10);
    expect(counts.filter((count) => count === 1)).toHaveLength(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect((await adapter.find(id))?.consumed).toEqual(expect.any(Number));
  });

  it('destroys only the entry named', async () => {
    const adapter = new PrismaAdapter(db, 'AccessToken');
    const [gone, kept] = [newId(), newId()];
    await adapter.upsert(gone, accessToken(gone), 300);
    await adapter.upsert(kept, accessToken(kept), 300);
    await adapter.destroy(gone);
    expect(await adapter.find(gone)).toBeUndefined();
    expect(await storedRow('AccessToken', gone)).toBeNull();
    expect(await adapter.find(kept)).toBeDefined();
    await adapter.destroy(newId()); // an unknown id is not an error
  });

  it('revokeByGrantId removes every model’s entries of that grant and nothing else', async () => {
    const grantId = `grant-${randomUUID()}`;
    const otherGrant = `grant-${randomUUID()}`;
    const models = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest'];
    const ofGrant: [string, string][] = [];
    const others: [string, string][] = [];
    for (const model of models) {
      const adapter = new PrismaAdapter(db, model);
      for (const [list, grant] of [[ofGrant, grantId], [others, otherGrant], [others, undefined]] as const) {
        const id = newId();
        await adapter.upsert(id, { ...accessToken(id), kind: model, grantId: grant }, 600);
        list.push([model, id]);
      }
    }

    await new PrismaAdapter(db, 'RefreshToken').revokeByGrantId(grantId);

    for (const [model, id] of ofGrant) expect(await new PrismaAdapter(db, model).find(id), model).toBeUndefined();
    for (const [model, id] of others) expect(await new PrismaAdapter(db, model).find(id), model).toBeDefined();
    expect(await db.prisma.oidcPayload.count({ where: { grantId } })).toBe(0);
  });

  it('finds a session by uid and a device code by user code', async () => {
    const sessions = new PrismaAdapter(db, 'Session');
    const deviceCodes = new PrismaAdapter(db, 'DeviceCode');
    const [sessionId, uid] = [newId(), `uid-${randomUUID()}`];
    const [deviceId, userCode] = [newId(), 'WDJB-MJHT'];
    await sessions.upsert(sessionId, { jti: sessionId, kind: 'Session', uid, accountId: 'alice', exp: now() + 600 }, 600);
    await deviceCodes.upsert(deviceId, { jti: deviceId, kind: 'DeviceCode', userCode, clientId: 'client-1', exp: now() + 600 }, 600);

    expect(await sessions.findByUid(uid)).toMatchObject({ kind: 'Session', uid, accountId: 'alice' });
    expect(await deviceCodes.findByUserCode(userCode)).toMatchObject({ kind: 'DeviceCode', userCode, clientId: 'client-1' });
    expect(await sessions.findByUid(`uid-${randomUUID()}`)).toBeUndefined();
    expect(await deviceCodes.findByUserCode('XXXX-XXXX')).toBeUndefined();
    // Each lookup stays within its model.
    expect(await deviceCodes.findByUid(uid)).toBeUndefined();
    expect(await sessions.findByUserCode(userCode)).toBeUndefined();
  });

  it('keeps models apart: the same id under two model names is two entries', async () => {
    const tokens = new PrismaAdapter(db, 'AccessToken');
    const codes = new PrismaAdapter(db, 'AuthorizationCode');
    const id = newId();
    await tokens.upsert(id, accessToken(id, { scope: 'token-scope' }), 300);
    await codes.upsert(id, { ...accessToken(id), kind: 'AuthorizationCode', scope: 'code-scope' }, 300);
    expect(await tokens.find(id)).toMatchObject({ kind: 'AccessToken', scope: 'token-scope' });
    expect(await codes.find(id)).toMatchObject({ kind: 'AuthorizationCode', scope: 'code-scope' });

    await codes.consume(id);
    expect(await tokens.find(id)).not.toHaveProperty('consumed');
    await codes.destroy(id);
    expect(await codes.find(id)).toBeUndefined();
    expect(await tokens.find(id)).toMatchObject({ scope: 'token-scope' });
  });
});

describe('what the database holds', () => {
  it('stores identifiers only as SHA-256 hashes, and no jti or raw id in the payload', async () => {
    const sessions = new PrismaAdapter(db, 'Session');
    const deviceCodes = new PrismaAdapter(db, 'DeviceCode');
    const [sessionId, uid] = [newId(), `uid-${randomUUID()}`];
    const [deviceId, userCode] = [newId(), 'BCDF-GHJK'];
    await sessions.upsert(sessionId, { jti: sessionId, kind: 'Session', uid, accountId: 'alice', exp: now() + 600 }, 600);
    await deviceCodes.upsert(deviceId, { jti: deviceId, kind: 'DeviceCode', userCode, exp: now() + 600 }, 600);

    const session = await db.prisma.oidcPayload.findFirstOrThrow({ where: { model: 'Session', uid: sha256(uid) } });
    expect(session.id).toBe(sha256(sessionId));
    expect(session.uid).toBe(sha256(uid));
    const deviceCode = await db.prisma.oidcPayload.findFirstOrThrow({ where: { model: 'DeviceCode', userCode: sha256(userCode) } });
    expect(deviceCode.id).toBe(sha256(deviceId));
    expect(deviceCode.userCode).toBe(sha256(userCode));

    for (const [row, id] of [[session, sessionId], [deviceCode, deviceId]] as const) {
      const json = JSON.stringify(row.payload);
      expect(json).not.toContain(id);
      expect(row.payload).not.toHaveProperty('jti');
    }
    // No column anywhere holds either raw id.
    const everything = JSON.stringify(await db.prisma.oidcPayload.findMany());
    expect(everything).not.toContain(sessionId);
    expect(everything).not.toContain(deviceId);
  });
});
