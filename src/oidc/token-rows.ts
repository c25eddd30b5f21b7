// The token table's statements on every token request, in plain SQL (prepared on PostgreSQL):
// issuing, finding and revoking a token by its hashed identifier. Through Prisma's query builder
// each cost several times its own database work on the client (bench/query-cost.mts), and the
// provider runs one per issuance and up to four per revocation. Everything else about these rows
// stays on Prisma (adapter.ts). Timestamps are UTC without zone, as Prisma writes them.
import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../db/database.js';

/** Every column adapter.ts sets; a new one must be added here too, or upserts would drop it. */
export interface TokenRow {
  payload: object;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  clientId: string | null;
  accountId: string | null;
  expiresAt: Date | null;
}

/** Live: not expired by this process's clock (as with Prisma, which sent `new Date()`), given as parameter `$n`. */
const live = (n: number) => `(expires_at IS NULL OR expires_at > $${n}::timestamp)`;
const now = () => new Date().toISOString();

/**
 * Stores a row, replacing one with the same model and id. Upserts arriving together (one event-loop
 * turn: concurrent token requests) go to the database as one statement in one transaction, so a
 * busy server pays one round trip and one commit for many tokens instead of one each. Each caller
 * still returns only once its row is committed.
 */
export function upsertRow(db: Database, model: string, id: string, row: TokenRow): Promise<void> {
  let batcher = batchers.get(db);
  if (!batcher) batchers.set(db, (batcher = new UpsertBatcher(db)));
  return batcher.add(model, id, row);
}

const batchers = new WeakMap<Database, UpsertBatcher>();

class UpsertBatcher {
  #pending = new Map<string, { model: string; id: string; row: TokenRow; done: { resolve(): void; reject(err: unknown): void }[] }>();
  #scheduled = false;

  constructor(private readonly db: Database) {}

  add(model: string, id: string, row: TokenRow): Promise<void> {
    return new Promise((resolve, reject) => {
      const key = `${model} ${id}`;
      // The same row twice in one batch: the later write wins, as it would one after the other.
      const done = [...(this.#pending.get(key)?.done ?? []), { resolve, reject }];
      this.#pending.delete(key);
      this.#pending.set(key, { model, id, row, done });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    const batch = [...this.#pending.values()];
    this.#pending = new Map();
    this.#scheduled = false;
    const column = <T>(pick: (entry: (typeof batch)[number]) => T) => batch.map(pick);
    try {
      await this.db.sql(
        'tollgate_token_upsert',
        `INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, user_code, client_id, account_id, expires_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamp[])
         ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid,
           user_code = EXCLUDED.user_code, client_id = EXCLUDED.client_id, account_id = EXCLUDED.account_id, expires_at = EXCLUDED.expires_at`,
        [
          column((e) => e.model),
          column((e) => e.id),
          column((e) => JSON.stringify(e.row.payload)),
          column((e) => e.row.grantId),
          column((e) => e.row.uid),
          column((e) => e.row.userCode),
          column((e) => e.row.clientId),
          column((e) => e.row.accountId),
          column((e) => e.row.expiresAt?.toISOString() ?? null),
        ],
      );
      for (const entry of batch) for (const { resolve } of entry.done) resolve();
    } catch (err) {
      for (const entry of batch) for (const { reject } of entry.done) reject(err);
    }
  }
}

type Found = { payload: AdapterPayload; consumed: number | null } | undefined;

/**
 * The live (unexpired) row's payload and when it was consumed (epoch seconds), if any. Like
 * upserts, the lookups of one event-loop turn share one statement: the provider looks a token up
 * under three models at once, for every concurrent introspection or revocation.
 */
export function findRow(db: Database, model: string, id: string): Promise<Found> {
  let batcher = finders.get(db);
  if (!batcher) finders.set(db, (batcher = new FindBatcher(db)));
  return batcher.add(`${model} ${id}`, model, id);
}

const finders = new WeakMap<Database, FindBatcher>();

class FindBatcher {
  #pending = new Map<string, { model: string; id: string; waiters: ((found: Found) => void)[]; failed: ((err: unknown) => void)[] }>();
  #scheduled = false;

  constructor(private readonly db: Database) {}

  add(key: string, model: string, id: string): Promise<Found> {
    return new Promise((resolve, reject) => {
      const entry = this.#pending.get(key) ?? { model, id, waiters: [], failed: [] };
      entry.waiters.push(resolve);
      entry.failed.push(reject);
      this.#pending.set(key, entry);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = new Map();
    this.#scheduled = false;
    const entries = [...batch.values()];
    try {
      const rows = await this.db.sql(
        'tollgate_token_find',
        `SELECT t.model, t.id, t.payload, extract(epoch FROM t.consumed_at)::float8 AS consumed
         FROM unnest($1::text[], $2::text[]) AS k(model, id) JOIN oidc_payloads t ON t.model = k.model AND t.id = k.id
         WHERE ${live(3)}`,
        [entries.map((e) => e.model), entries.map((e) => e.id), now()],
      );
      const found = new Map(rows.map((row) => [`${row.model as string} ${row.id as string}`, row]));
      for (const [key, entry] of batch) {
        const row = found.get(key);
        const result: Found = row ? { payload: row.payload as AdapterPayload, consumed: row.consumed === null ? null : Number(row.consumed) } : undefined;
        for (const resolve of entry.waiters) resolve(result);
      }
    } catch (err) {
      for (const entry of entries) for (const reject of entry.failed) reject(err);
    }
  }
}

export async function deleteRow(db: Database, model: string, id: string): Promise<void> {
  await db.sql('tollgate_token_delete', 'DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [model, id]);
}

/** Whether a live row of one of `models` has this id: the fast introspection path's only query. */
export async function liveRowExists(db: Database, models: readonly string[], id: string): Promise<boolean> {
  const found = await Promise.all(models.map((model) => findRow(db, model, id)));
  return found.some(Boolean);
}
