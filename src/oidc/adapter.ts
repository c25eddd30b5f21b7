// oidc-provider's storage contract, a thin shim over the token store (src/tokens/store/), which
// hashes identifiers and owns the table. Clients come from the client registry instead.
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { ClientService } from '../clients/service.js';
import type { Client, Database } from '../db/database.js';
import { tokenStore, type TokenStore } from '../tokens/store/token-store.js';
import { clientMetadata } from './client-metadata.js';
import { JWT_PAYLOAD_MARK } from './internals/jwt-access-tokens.js';
import { looksLikeJwt, type JwtAccessTokenIds } from './jwt-access-tokens.js';

/** The models whose tokens may be JWTs (RFC 9068), stored under their jti with JWT_PAYLOAD_MARK. */
const ACCESS_TOKEN_MODELS = new Set(['AccessToken', 'ClientCredentials']);

/**
 * `clientFound` hears of every client the provider loads, before the provider sees it; `jwtIds`
 * tells which stored access token a JWT value is (none: JWT values name no token).
 */
export function createAdapterFactory(db: Database, clients: ClientService, clientFound?: (client: Client) => Promise<void>, jwtIds?: JwtAccessTokenIds) {
  const tokens = tokenStore(db);
  return (model: string): Adapter => (model === 'Client' ? new ClientAdapter(clients, clientFound) : new StoreAdapter(tokens, model, jwtIds));
}

export class StoreAdapter implements Adapter {
  constructor(
    private readonly tokens: TokenStore,
    private readonly model: string,
    private readonly jwtIds?: JwtAccessTokenIds,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    refuseUnstorable(payload);
    return this.tokens.upsert(this.model, id, payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (!ACCESS_TOKEN_MODELS.has(this.model)) return (await this.tokens.find(this.model, id)) as AdapterPayload | undefined;
    // A JWT access token is found from the signed JWT only: its jti alone is no secret, and no token.
    const jti = looksLikeJwt(id) ? await this.jwtIds?.(id) : undefined;
    const stored = (await this.tokens.find(this.model, jti ?? id)) as AdapterPayload | undefined;
    const isJwt = stored?.format === JWT_PAYLOAD_MARK.format;
    if (!stored || isJwt !== (jti !== undefined)) return undefined;
    if (!isJwt) return stored;
    const { format: _mark, ...payload } = stored;
    return payload as AdapterPayload;
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return (await this.tokens.findByUid(this.model, uid)) as AdapterPayload | undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return (await this.tokens.findByUserCode(this.model, userCode)) as AdapterPayload | undefined;
  }

  async consume(id: string): Promise<void> {
    await this.consumeOnce(id);
  }

  /**
   * consume() that says whether this call did it: true for exactly one of any number of racing
   * callers. oidc-provider reads an entry and consumes it later, so two requests can both see it
   * unconsumed; the models that must not be used twice (codes, refresh tokens) consume with this
   * and refuse the request that loses (see refresh-rotation.ts).
   */
  consumeOnce(id: string): Promise<boolean> {
    return this.tokens.consumeOnce(this.model, id);
  }

  /**
   * Stores the entry only if no live entry has its id, atomically: true if this call stored it.
   * Replay detection needs this; oidc-provider's own check (find, then upsert) lets two racing
   * requests with the same DPoP proof both through.
   */
  async insertIfAbsent(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
    refuseUnstorable(payload);
    return this.tokens.insertIfAbsent(this.model, id, payload, expiresIn);
  }

  destroy(id: string): Promise<void> {
    return this.tokens.destroy(this.model, id);
  }

  /**
   * Deletes the entry with this uid. An entry found by uid cannot be destroyed through the
   * provider's model: its id is stored only as a hash, so findByUid cannot give it back.
   */
  destroyByUid(uid: string): Promise<void> {
    return this.tokens.destroyByUid(this.model, uid);
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return this.tokens.revokeGrant(grantId);
  }
}

/**
 * PostgreSQL stores no NUL (nor, in jsonb, half a surrogate pair): an entry holding one (a request parameter the provider
 * keeps, such as an authorization request's state) is the caller's invalid request, refused before
 * it reaches a batch it would fail for everyone in it.
 */
function refuseUnstorable(payload: AdapterPayload): void {
  if (holdsUnstorable(payload)) throw new errors.InvalidRequest('parameters must not contain NUL characters or lone surrogates');
}

/** NUL, or half a surrogate pair: jsonb refuses both. */
function holdsUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return unstorable(value);
  if (typeof value !== 'object' || value === null) return false;
  // for…in, not Object.entries: this runs on every upsert, and allocates nothing this way (~0.16 µs a token).
  for (const key in value) if (unstorable(key) || holdsUnstorable((value as Record<string, unknown>)[key])) return true;
  return false;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function unstorable(text: string): boolean {
  return text.includes('\u0000') || LONE_SURROGATE.test(text);
}

/** Clients are owned by the client registry; the provider only reads them. */
class ClientAdapter implements Adapter {
  constructor(
    private readonly clients: ClientService,
    private readonly found?: (client: Client) => Promise<void>,
  ) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    const client = await this.clients.findActive(id);
    if (!client) return undefined;
    await this.found?.(client);
    return clientMetadata(client) as AdapterPayload;
  }

  async upsert(): Promise<void> {
    throw new Error('clients are managed through the admin API');
  }

  async destroy(): Promise<void> {
    throw new Error('clients are managed through the admin API');
  }

  async findByUid(): Promise<undefined> {}
  async findByUserCode(): Promise<undefined> {}
  async consume(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}
