// The token table's hot statements (src/oidc/token-rows.ts) on a real database, both stores:
// concurrent upserts share one statement and must still behave like one write each.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { deleteRow, findRow, liveRowExists, upsertRow, type TokenRow } from '../../src/oidc/token-rows.js';
import { openTestDatabase } from '../helpers/tollgate.js';

let db: Database;
let dispose: () => Promise<void>;
beforeAll(async () => {
  ({ db, dispose } = await openTestDatabase());
});
afterAll(() => dispose?.());

const row = (overrides: Partial<TokenRow> = {}): TokenRow => ({
  payload: { kind: 'ClientCredentials', clientId: 'c', scope: 'read' },
  grantId: null,
  uid: null,
  userCode: null,
  clientId: 'c',
  accountId: null,
  expiresAt: new Date(Date.now() + 60_000),
  ...overrides,
});

describe('token rows', () => {
  it('stores many concurrent upserts, each once, the later of two writes to one id winning', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `concurrent-${i}`);
    await Promise.all([
      ...ids.map((id) => upsertRow(db, 'ClientCredentials', id, row())),
      upsertRow(db, 'ClientCredentials', 'twice', row({ payload: { n: 1 } })),
      upsertRow(db, 'ClientCredentials', 'twice', row({ payload: { n: 2 } })),
      upsertRow(db, 'AccessToken', 'twice', row({ payload: { n: 3 } })),
    ]);
    expect(await db.prisma.oidcPayload.count({ where: { id: { startsWith: 'concurrent-' } } })).toBe(200);
    expect((await findRow(db, 'ClientCredentials', 'twice'))?.payload).toEqual({ n: 2 });
    expect((await findRow(db, 'AccessToken', 'twice'))?.payload).toEqual({ n: 3 });
  });

  it('writes the same columns Prisma reads back', async () => {
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 60_000);
    await upsertRow(db, 'AccessToken', 'columns', row({ grantId: 'g', uid: 'u', userCode: 'uc', accountId: 'a', expiresAt }));
    const stored = await db.prisma.oidcPayload.findUnique({ where: { model_id: { model: 'AccessToken', id: 'columns' } } });
    expect(stored).toMatchObject({ grantId: 'g', uid: 'u', userCode: 'uc', clientId: 'c', accountId: 'a', expiresAt, consumedAt: null });
    expect(stored?.payload).toEqual(row().payload);
  });

  it('finds only live rows, reports consumption, and deletes', async () => {
    await upsertRow(db, 'RefreshToken', 'expired', row({ expiresAt: new Date(Date.now() - 1000) }));
    expect(await findRow(db, 'RefreshToken', 'expired')).toBeUndefined();
    expect(await liveRowExists(db, ['RefreshToken'], 'expired')).toBe(false);

    await upsertRow(db, 'RefreshToken', 'live', row({ expiresAt: null }));
    expect(await liveRowExists(db, ['AccessToken', 'RefreshToken'], 'live')).toBe(true);
    expect(await liveRowExists(db, ['AccessToken'], 'live')).toBe(false);
    expect((await findRow(db, 'RefreshToken', 'live'))?.consumed).toBeNull();
    const consumedAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    await db.prisma.oidcPayload.update({ where: { model_id: { model: 'RefreshToken', id: 'live' } }, data: { consumedAt } });
    expect((await findRow(db, 'RefreshToken', 'live'))?.consumed).toBe(consumedAt.getTime() / 1000);

    await deleteRow(db, 'RefreshToken', 'live');
    expect(await findRow(db, 'RefreshToken', 'live')).toBeUndefined();
  });
});
