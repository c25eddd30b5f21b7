/**
 * What the fast introspection path and the gateway check need to decide about an active token
 * without the database.
 */
export interface CachedToken {
  /**
   * The provider's own RFC 7662 answer for an authorised caller, serialised once; absent when the
   * gateway check remembered the token (introspection then asks the provider, and remembers its answer).
   */
  body?: string;
  clientId: string;
  /** The answer's `sub` and `token_type`, for the audit trail. */
  subject?: string;
  tokenType: string;
  grantId?: string;
  /** Epoch milliseconds: the token's `exp`. */
  expiresAt: number;
  /** The token's scopes, space-separated ('' for none). */
  scope: string;
  /** Its audiences (`aud`): who else may see it (a client acting for that resource server), and what the gateway checks. */
  audience: readonly string[];
  /** For a DPoP-bound token: cnf.jkt, the thumbprint of its key. */
  jkt?: string;
  /**
   * Remembered from a JWT access token (RFC 9068), under its jti: the answer for that verified JWT
   * only, never for the bare jti presented as an opaque value (the jti is no secret).
   */
  jwt?: true;
}

/**
 * Active tokens keyed by the SHA-256 of their stored id (the same key the database uses, and the one
 * a revocation names): an opaque token's value, a JWT access token's jti. Bounded
 * (the oldest entry goes first) and expiring with the token. Every eviction bumps `generation`,
 * so an answer read from the database before a revocation cannot be cached after it.
 */
export class TokenCache {
  readonly #entries = new Map<string, CachedToken>();
  #generation = 0;

  constructor(private readonly maxEntries: number) {}

  get generation(): number {
    return this.#generation;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(hash: string, now = Date.now()): CachedToken | undefined {
    const entry = this.#entries.get(hash);
    if (entry && entry.expiresAt <= now) {
      this.#entries.delete(hash);
      return undefined;
    }
    return entry;
  }

  /** Stores the entry unless something was evicted since `generation` was read. */
  set(hash: string, entry: CachedToken, generation: number): void {
    if (this.maxEntries === 0 || generation !== this.#generation || entry.expiresAt <= Date.now()) return;
    this.#entries.delete(hash);
    while (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(hash, entry);
  }

  evictToken(hash: string): void {
    this.#generation += 1;
    this.#entries.delete(hash);
  }

  evictWhere(matches: (entry: CachedToken) => boolean): void {
    this.#generation += 1;
    for (const [hash, entry] of this.#entries) if (matches(entry)) this.#entries.delete(hash);
  }

  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
  }
}
