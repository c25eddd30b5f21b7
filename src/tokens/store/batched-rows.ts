// The token table's statements on every token request, batched: upserts arriving together (one
// event-loop turn: concurrent token requests) go to the database as one statement in one
// transaction, and so do lookups (the provider looks a token up under three models at once, for
// every concurrent introspection or revocation) and revocations' deletes. A busy server pays one round trip and one commit
// for many tokens instead of one each; each caller still returns only once its own row is settled.
import type { Sql } from './sql.js';

/** Every column an upsert sets; a new one must be added to the statement too, or upserts would drop it. */
export interface TokenRow {
  model: string;
  /** The SHA-256 of the provider's identifier. */
  id: string;
  payload: object;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  clientId: string | null;
  accountId: string | null;
  expiresAt: Date | null;
}

/** A live row's payload and when it was consumed (epoch seconds), if it was. */
export type FoundRow = { payload: Record<string, unknown>; consumed: number | null } | undefined;

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** Collects calls until the end of the event-loop turn, then settles them all with one `flush`. */
class Batch<Entry, Result> {
  #pending = new Map<string, { entry: Entry; waiters: Waiter<Result>[] }>();
  #scheduled = false;

  constructor(private readonly flush: (entries: Entry[]) => Promise<(entry: Entry) => Result>) {}

  /** Calls with the same key share one entry; the later entry replaces the earlier one, as a later write would. */
  add(key: string, entry: Entry): Promise<Result> {
    return new Promise((resolve, reject) => {
      const waiters = [...(this.#pending.get(key)?.waiters ?? []), { resolve, reject }];
      this.#pending.delete(key);
      this.#pending.set(key, { entry, waiters });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#run());
      }
    });
  }

  async #run(): Promise<void> {
    const batch = [...this.#pending.values()];
    this.#pending = new Map();
    this.#scheduled = false;
    try {
      const resultOf = await this.flush(batch.map(({ entry }) => entry));
      for (const { entry, waiters } of batch) for (const { resolve } of waiters) resolve(resultOf(entry));
    } catch (err) {
      for (const { waiters } of batch) for (const { reject } of waiters) reject(err);
    }
  }
}

export class BatchedRows {
  readonly #upserts: Batch<TokenRow, void>;
  readonly #finds: Batch<{ model: string; id: string }, FoundRow>;
  readonly #deletes: Batch<{ model: string; id: string }, void>;

  constructor(sql: Sql, now: () => Date) {
    this.#upserts = new Batch(async (rows) => {
      const column = (pick: (row: TokenRow) => unknown) => rows.map(pick);
      await sql(
        'tollgate_token_upsert',
        `INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, user_code, client_id, account_id, expires_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamp[])
         ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid,
           user_code = EXCLUDED.user_code, client_id = EXCLUDED.client_id, account_id = EXCLUDED.account_id, expires_at = EXCLUDED.expires_at`,
        [
          column((row) => row.model),
          column((row) => row.id),
          column((row) => JSON.stringify(row.payload)),
          column((row) => row.grantId),
          column((row) => row.uid),
          column((row) => row.userCode),
          column((row) => row.clientId),
          column((row) => row.accountId),
          column((row) => row.expiresAt?.toISOString() ?? null),
        ],
      );
      return () => undefined;
    });
    this.#finds = new Batch(async (keys) => {
      const rows = await sql(
        'tollgate_token_find',
        `SELECT t.model, t.id, t.payload, extract(epoch FROM t.consumed_at)::float8 AS consumed
         FROM unnest($1::text[], $2::text[]) AS k(model, id) JOIN oidc_payloads t ON t.model = k.model AND t.id = k.id
         WHERE t.expires_at IS NULL OR t.expires_at > $3::timestamp`,
        [keys.map((key) => key.model), keys.map((key) => key.id), now().toISOString()],
      );
      const found = new Map(rows.map((row) => [`${row.model as string} ${row.id as string}`, foundRow(row)]));
      return (key) => found.get(`${key.model} ${key.id}`);
    });
    this.#deletes = new Batch(async (keys) => {
      await sql(
        'tollgate_token_delete',
        'DELETE FROM oidc_payloads t USING unnest($1::text[], $2::text[]) AS k(model, id) WHERE t.model = k.model AND t.id = k.id',
        [keys.map((key) => key.model), keys.map((key) => key.id)],
      );
      return () => undefined;
    });
  }

  /** Stores a row, replacing the one with the same model and id. */
  upsert(row: TokenRow): Promise<void> {
    return this.#upserts.add(`${row.model} ${row.id}`, row);
  }

  /** The live (unexpired) row of this model with this hashed id. */
  find(model: string, id: string): Promise<FoundRow> {
    return this.#finds.add(`${model} ${id}`, { model, id });
  }

  /** Deletes the row of this model with this hashed id (revocations arrive together too). */
  delete(model: string, id: string): Promise<void> {
    return this.#deletes.add(`${model} ${id}`, { model, id });
  }
}

/** A selected `payload` and `consumed` (epoch seconds) as a FoundRow. */
export function foundRow(row: Record<string, unknown>): NonNullable<FoundRow> {
  return { payload: row.payload as Record<string, unknown>, consumed: row.consumed === null ? null : Number(row.consumed) };
}
