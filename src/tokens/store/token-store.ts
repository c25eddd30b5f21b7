// The one owner of oidc_payloads, where oidc-provider keeps every model it stores (tokens, grants,
// sessions, interactions, DPoP replay entries, ...). Identifiers (token values, session and
// interaction ids, uids, user codes) are stored only as their SHA-256, so a database dump yields no
// usable credential; callers pass them as the provider knows them. Every statement is plain SQL
// through Database.sql (prepared on PostgreSQL): through Prisma's query builder each costs several
// times its own database work (bench/query-cost.mts). Statements that change several rows are
// single statements, so each commits whole; timestamps are UTC without zone, as Prisma writes them.
import { sha256 } from '../../crypto/hash.js';
import type { Database } from '../../db/database.js';
import { BatchedRows, foundRow, type FoundRow, type TokenRow } from './batched-rows.js';
import { sqlOf, type Sql, type Transaction } from './sql.js';

/** A stored entry as the provider gave it, with `jti` restored and `consumed` (epoch seconds) once consumed. */
export type Entry = Record<string, unknown>;

export interface TokenStoreOptions {
  /** The clock deciding expiry and consumption times. */
  now?: () => Date;
}

/** The models whose tokens introspection can find. */
const INTROSPECTABLE = ['AccessToken', 'ClientCredentials', 'RefreshToken'];
const LIVE = 'expires_at IS NULL OR expires_at > $3::timestamp';

const stores = new WeakMap<Database, TokenStore>();

/** The database's token store: one per database, so that concurrent requests share its batches. */
export function tokenStore(db: Database): TokenStore {
  let store = stores.get(db);
  if (!store) stores.set(db, (store = new TokenStore(db)));
  return store;
}

export class TokenStore {
  readonly #db: Database;
  readonly #sql: Sql;
  readonly #now: () => Date;
  readonly #rows: BatchedRows;

  constructor(db: Database, { now = () => new Date() }: TokenStoreOptions = {}) {
    this.#db = db;
    this.#sql = db.sql;
    this.#now = now;
    this.#rows = new BatchedRows(db.sql, now);
  }

  /** Stores an entry, replacing the one with the same model and id; it expires after `expiresIn` seconds (never without). */
  upsert(model: string, id: string, entry: Entry, expiresIn?: number): Promise<void> {
    return this.#rows.upsert(this.#row(model, id, entry, expiresIn));
  }

  /** The live (unexpired) entry. */
  async find(model: string, id: string): Promise<Entry | undefined> {
    return asEntry(await this.#rows.find(model, sha256(id)), id);
  }

  findByUid(model: string, uid: string): Promise<Entry | undefined> {
    return this.#findBy('tollgate_token_find_by_uid', 'uid', model, uid);
  }

  findByUserCode(model: string, userCode: string): Promise<Entry | undefined> {
    return this.#findBy('tollgate_token_find_by_user_code', 'user_code', model, userCode);
  }

  /** Whether a live token that introspection can find has this hashed value: the introspection fast path's only query. */
  async liveTokenExists(tokenHash: string): Promise<boolean> {
    const found = await Promise.all(INTROSPECTABLE.map((model) => this.#rows.find(model, tokenHash)));
    return found.some(Boolean);
  }

  /**
   * Marks the entry consumed unless it already is, in one conditional UPDATE: true for exactly one
   * of any number of racing callers.
   */
  async consumeOnce(model: string, id: string): Promise<boolean> {
    const rows = await this.#sql(
      'tollgate_token_consume',
      'UPDATE oidc_payloads SET consumed_at = $3::timestamp WHERE model = $1 AND id = $2 AND consumed_at IS NULL RETURNING 1 AS consumed',
      [model, sha256(id), this.#now().toISOString()],
    );
    return rows.length === 1;
  }

  /**
   * Stores the entry only if no live entry has its id, atomically: true if this call stored it. An
   * expired leftover with the same id (not yet cleaned up) is taken over.
   */
  async insertIfAbsent(model: string, id: string, entry: Entry, expiresIn: number): Promise<boolean> {
    const row = this.#row(model, id, entry, expiresIn);
    const rows = await this.#sql(
      'tollgate_token_insert_if_absent',
      `INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, user_code, client_id, account_id, expires_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9::timestamp)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid,
         user_code = EXCLUDED.user_code, client_id = EXCLUDED.client_id, account_id = EXCLUDED.account_id,
         expires_at = EXCLUDED.expires_at, consumed_at = NULL, grace_used_at = NULL, successors = '{}'
       WHERE oidc_payloads.expires_at <= $10::timestamp
       RETURNING 1 AS stored`,
      [
        row.model,
        row.id,
        JSON.stringify(row.payload),
        row.grantId,
        row.uid,
        row.userCode,
        row.clientId,
        row.accountId,
        row.expiresAt?.toISOString() ?? null,
        this.#now().toISOString(),
      ],
    );
    return rows.length === 1;
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.#rows.delete(model, sha256(id));
  }

  async destroyByUid(model: string, uid: string): Promise<void> {
    await this.#sql('tollgate_token_delete_by_uid', 'DELETE FROM oidc_payloads WHERE model = $1 AND uid = $2', [model, sha256(uid)]);
  }

  /** Ends a grant: the grant itself and every code and token it issued. */
  async revokeGrant(grantId: string): Promise<void> {
    // A grant's own row carries its id as grant_id too; the key is matched for rows stored without it.
    await this.#sql('tollgate_token_revoke_grant', "DELETE FROM oidc_payloads WHERE grant_id = $1 OR (model = 'Grant' AND id = $2)", [
      grantId,
      sha256(grantId),
    ]);
  }

  /** Ends everything issued to a client: its grants, codes, tokens and sessions' entries. Returns the grants ended. */
  revokeByClient(clientId: string, tx?: Transaction): Promise<string[]> {
    return this.#revoke('tollgate_token_revoke_client', 'client_id = $1', [clientId], tx);
  }

  /**
   * Ends everything of a user (resource owner), or only what the user gave `clientId`: grants,
   * their codes and tokens, and (without a client) sign-in sessions. Returns the grants ended.
   */
  revokeByAccount(accountId: string, { clientId, tx }: { clientId?: string; tx?: Transaction } = {}): Promise<string[]> {
    if (clientId === undefined) return this.#revoke('tollgate_token_revoke_account', 'account_id = $1', [accountId], tx);
    return this.#revoke('tollgate_token_revoke_account_client', 'account_id = $1 AND client_id = $2', [accountId, clientId], tx);
  }

  /** Ends a user's sign-in sessions (the browser must sign in again), leaving the applications' tokens alone. */
  async endSessions(accountId: string, tx?: Transaction): Promise<void> {
    await sqlOf(this.#db, tx)('tollgate_token_end_sessions', "DELETE FROM oidc_payloads WHERE model = 'Session' AND account_id = $1", [accountId]);
  }

  /**
   * Spends the reuse grace period of a consumed refresh token: succeeds once, only within
   * `graceSeconds` of its consumption, and only while the token its first use issued has not been
   * used (a used successor proves the first answer arrived, so the presentation is reuse). The
   * successor is marked consumed with its grace spent: whoever holds it can no longer refresh.
   */
  async claimGrace(refreshToken: string, graceSeconds: number): Promise<boolean> {
    const now = this.#now();
    const [claimed] = await this.#sql(
      'tollgate_token_claim_grace',
      `WITH claimed AS (
         UPDATE oidc_payloads SET grace_used_at = $3::timestamp
         WHERE model = 'RefreshToken' AND id = $1 AND grace_used_at IS NULL AND consumed_at >= $2::timestamp
         RETURNING successors),
       superseded AS (
         UPDATE oidc_payloads SET consumed_at = $3::timestamp, grace_used_at = $3::timestamp
         WHERE model = 'RefreshToken' AND id IN (SELECT unnest(successors) FROM claimed) AND consumed_at IS NULL
         RETURNING 1)
       SELECT cardinality(successors) AS successors, (SELECT count(*) FROM superseded)::int AS superseded FROM claimed`,
      [sha256(refreshToken), new Date(now.getTime() - graceSeconds * 1000).toISOString(), now.toISOString()],
    );
    if (!claimed) return false;
    return Number(claimed.successors) === 0 || Number(claimed.superseded) > 0;
  }

  /**
   * Records `successor` as the refresh token the rotation of `refreshToken` issued, so that a grace
   * retry can supersede it; false if a grace retry already claimed `refreshToken`.
   */
  async linkSuccessor(refreshToken: string, successor: string): Promise<boolean> {
    const rows = await this.#sql(
      'tollgate_token_link_successor',
      "UPDATE oidc_payloads SET successors = ARRAY[$2::text] WHERE model = 'RefreshToken' AND id = $1 AND grace_used_at IS NULL RETURNING 1 AS linked",
      [sha256(refreshToken), sha256(successor)],
    );
    return rows.length === 1;
  }

  /** Deletes every expired entry; returns how many. */
  async deleteExpired(): Promise<number> {
    const [row] = await this.#sql(
      'tollgate_token_delete_expired',
      'WITH gone AS (DELETE FROM oidc_payloads WHERE expires_at < $1::timestamp RETURNING 1) SELECT count(*)::int AS count FROM gone',
      [this.#now().toISOString()],
    );
    return Number(row?.count ?? 0);
  }

  /** Deletes the rows matching `where` and returns the distinct grant ids they carried. */
  async #revoke(name: string, where: string, values: unknown[], tx?: Transaction): Promise<string[]> {
    const rows = await sqlOf(this.#db, tx)(
      name,
      `WITH gone AS (DELETE FROM oidc_payloads WHERE ${where} RETURNING grant_id)
       SELECT DISTINCT grant_id FROM gone WHERE grant_id IS NOT NULL`,
      values,
    );
    return rows.map((row) => row.grant_id as string);
  }

  async #findBy(name: string, column: 'uid' | 'user_code', model: string, value: string): Promise<Entry | undefined> {
    const [row] = await this.#sql(
      name,
      `SELECT payload, extract(epoch FROM consumed_at)::float8 AS consumed FROM oidc_payloads
       WHERE model = $1 AND ${column} = $2 AND (${LIVE}) LIMIT 1`,
      [model, sha256(value), this.#now().toISOString()],
    );
    return asEntry(row && foundRow(row));
  }

  #row(model: string, id: string, entry: Entry, expiresIn: number | undefined): TokenRow {
    // The identifier itself is not kept: find() puts it back from its argument.
    const { jti: _jti, ...payload } = entry;
    const text = (value: unknown) => (typeof value === 'string' && value ? value : null);
    return {
      model,
      id: sha256(id),
      payload,
      // A grant's own row carries its id too, so revoking the grant ends it with its tokens.
      grantId: text(entry.grantId) ?? (model === 'Grant' ? id : null),
      uid: text(entry.uid) && sha256(entry.uid as string),
      userCode: text(entry.userCode) && sha256(entry.userCode as string),
      clientId: text(entry.clientId),
      accountId: text(entry.accountId),
      expiresAt: expiresIn ? new Date(this.#now().getTime() + expiresIn * 1000) : null,
    };
  }
}

/** The stored payload as the provider knows it: `jti` (when looked up by it) and `consumed` put back. */
function asEntry(row: FoundRow, jti?: string): Entry | undefined {
  if (!row) return undefined;
  return { ...row.payload, ...(jti ? { jti } : {}), ...(row.consumed !== null ? { consumed: Math.floor(row.consumed) } : {}) };
}
