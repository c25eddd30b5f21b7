// The in-process caches of one instance and what keeps them honest: every invalidation event,
// local or from another instance, is applied here; while the bus may be missing events
// (`usable` false) nothing is read from or added to them.
import type Provider from 'oidc-provider';
import type { SecretVerifier } from '../clients/secrets.js';
import { sha256 } from '../crypto/hash.js';
import type { Client, ResourceServer } from '../db/database.js';
import type { ResourceServerCacheHooks } from '../resource-servers/service.js';
import type { InvalidationBus, InvalidationEvent } from './invalidation.js';
import { TokenCache } from './token-cache.js';

/** What ClientService needs from a cache: a read-through lookup and a change announcement. */
export interface ClientCacheHooks {
  findActive(id: string, load: () => Promise<Client | null>): Promise<Client | null>;
  changed(id: string): Promise<void>;
}

export interface CacheSettings {
  tokenCacheSize: number;
  clientCacheSize: number;
  /** Tokens for the issuer itself are the ones whose answers no resource server's change alters. */
  issuer: string;
}

export class Caches implements ClientCacheHooks, ResourceServerCacheHooks {
  readonly tokens: TokenCache;
  readonly #clients = new Map<string, Client>();
  #clientGeneration = 0;
  /** Every resource server (they are few), or undefined until read again after a change. */
  #resourceServers: ResourceServer[] | undefined;
  #resourceServerGeneration = 0;

  constructor(
    readonly bus: InvalidationBus,
    private readonly secrets: SecretVerifier,
    private readonly settings: CacheSettings,
  ) {
    this.tokens = new TokenCache(settings.tokenCacheSize);
    bus.subscribe(
      (event) => this.#apply(event),
      () => this.#reset(),
    );
  }

  get usable(): boolean {
    return this.bus.connected;
  }

  async findActive(id: string, load: () => Promise<Client | null>): Promise<Client | null> {
    if (!this.usable) return load();
    const cached = this.#clients.get(id);
    if (cached) return cached;
    const generation = this.#clientGeneration;
    const client = await load();
    if (client && generation === this.#clientGeneration && this.usable && this.settings.clientCacheSize > 0) {
      while (this.#clients.size >= this.settings.clientCacheSize) this.#clients.delete(this.#clients.keys().next().value as string);
      this.#clients.set(id, client);
    }
    return client;
  }

  /** The cached active client, without a lookup (undefined when not cached or while unusable). */
  cachedClient(id: string): Client | undefined {
    return this.usable ? this.#clients.get(id) : undefined;
  }

  changed(id: string): Promise<void> {
    return this.bus.publish({ kind: 'client', id });
  }

  async allResourceServers(load: () => Promise<ResourceServer[]>): Promise<ResourceServer[]> {
    if (!this.usable) return load();
    if (this.#resourceServers) return this.#resourceServers;
    const generation = this.#resourceServerGeneration;
    const servers = await load();
    // A change announced while loading may not be in what was read: it is read again next time.
    if (generation === this.#resourceServerGeneration && this.usable) this.#resourceServers = servers;
    return servers;
  }

  /** Tells every instance that a resource server changed (ResourceServerCacheHooks). */
  async resourceServerChanged(id: string): Promise<void> {
    await this.bus.publish({ kind: 'resource_server', id });
  }

  async clientsChanged(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.changed(id)));
  }

  /** Announces the provider's revocations: a destroyed token, a revoked grant. */
  watch(provider: Provider): void {
    const destroyed = (token: { jti: string }) => void this.bus.publish({ kind: 'token', id: sha256(token.jti) });
    provider.on('access_token.destroyed', destroyed);
    provider.on('client_credentials.destroyed', destroyed);
    provider.on('refresh_token.destroyed', destroyed);
    provider.on('grant.revoked', (_ctx: unknown, grantId: string) => void this.bus.publish({ kind: 'grant', id: grantId }));
  }

  #apply(event: InvalidationEvent): void {
    switch (event.kind) {
      case 'token':
        return this.tokens.evictToken(event.id);
      case 'grant':
        return this.tokens.evictWhere((entry) => entry.grantId === event.id);
      case 'client':
        // A deleted or disabled client's tokens are gone from the database; a changed one may have lost
        // its secret, or scopes its tokens conferred.
        this.tokens.evictWhere((entry) => entry.clientId === event.id);
        this.#clientGeneration += 1;
        this.#clients.delete(event.id);
        this.secrets.forget(event.id);
        return;
      case 'resource_server':
        // What a token for a resource server confers follows that server's scopes, and ends with it.
        this.tokens.evictWhere((entry) => entry.audience.some((audience) => audience !== this.settings.issuer));
        this.#forgetResourceServers();
    }
  }

  #forgetResourceServers(): void {
    this.#resourceServerGeneration += 1;
    this.#resourceServers = undefined;
  }

  #reset(): void {
    this.tokens.clear();
    this.#clientGeneration += 1;
    this.#clients.clear();
    this.#forgetResourceServers();
  }
}
