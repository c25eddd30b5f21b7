// client_credentials access tokens minted with the provider's own model, for the issuance handler
// (src/tokens/issuance-handler.ts): the same token format, payload, lifetime, storage and events
// as the provider's grant handler produces, without its request pipeline, which is most of an
// issuance's cost.
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.js';
import type { Client, ResourceServer } from '../db/database.js';
import { newClientCredentials } from './internals/index.js';
import { registeredResourceServerInfo, resourceServerInfo } from './provider.js';

export interface MintedToken {
  value: string;
  expiresIn: number;
  scope?: string;
  /** For the audit trail: the token's id (hashed there); this grant type has no grant or account. */
  entity: { jti: string };
}

/** `server`: the registered resource server the token is for (none: the issuer). */
export type ClientCredentialsMinter = (client: Client, scope: string | undefined, server?: ResourceServer) => Promise<MintedToken | undefined>;

type ProviderClient = NonNullable<Awaited<ReturnType<Provider['Client']['find']>>>;

export function clientCredentialsMinter(provider: Provider, config: Config): ClientCredentialsMinter {
  // The provider's client object for a registration, kept as long as the cached row it came from:
  // a changed client is a new row (src/cache/caches.ts), and so a new provider client.
  const providerClients = new WeakMap<Client, ProviderClient>();

  return async function mint(row, scope, server) {
    let client = providerClients.get(row);
    if (!client) {
      client = await provider.Client.find(row.id);
      if (!client) return undefined;
      providerClients.set(row, client);
    }
    const token = newClientCredentials(
      provider,
      client,
      scope,
      server ? registeredResourceServerInfo(config, client, server) : resourceServerInfo(config, client),
    );
    const value = await token.save();
    return { value, expiresIn: token.expiration, scope: token.scope, entity: { jti: token.jti } };
  };
}
