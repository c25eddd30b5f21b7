// oidc-provider's storage contract, a thin shim over the token store (src/tokens/store/), which
// hashes identifiers and owns the table. Clients come from the client registry instead.
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { ClientService } from '../clients/service.js';
import type { Database } from '../db/database.js';
import { tokenStore, type TokenStore } from '../tokens/store/token-store.js';
import { clientMetadata } from './client-metadata.js';

/** A JSON escape PostgreSQL's jsonb refuses: NUL or half a surrogate pair (not an escaped backslash followed by "u0000"). */
const UNSTORABLE_JSON = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

export function createAdapterFactory(db: Database, clients: ClientService) {
  const tokens = tokenStore(db);
  return (model: string): Adapter => (model === 'Client' ? new ClientAdapter(clients) : new StoreAdapter(tokens, model));
}

export class StoreAdapter implements Adapter {
  constructor(
    private readonly tokens: TokenStore,
    private readonly model: string,
  ) {}

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    // What the request put in a payload (an authorization request's parameters) must be storable:
    // PostgreSQL refuses the whole batch of writes the entry joins, other requests' tokens included.
    if (UNSTORABLE_JSON.test(JSON.stringify(payload))) throw new errors.InvalidRequest('parameters must not contain NUL characters or lone surrogates');
    return this.tokens.upsert(this.model, id, payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return (await this.tokens.find(this.model, id)) as AdapterPayload | undefined;
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
  insertIfAbsent(id: string, payload: AdapterPayload, expiresIn: number): Promise<boolean> {
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

/** Clients are owned by the client registry; the provider only reads them. */
class ClientAdapter implements Adapter {
  constructor(private readonly clients: ClientService) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    const client = await this.clients.findActive(id);
    return client ? (clientMetadata(client) as AdapterPayload) : undefined;
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
