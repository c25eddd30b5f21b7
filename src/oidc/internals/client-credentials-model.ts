// A client_credentials access token made with the provider's own model outside its token
// endpoint, for Tollgate's issuance handler (src/oidc/client-credentials-minter.ts). The model's
// constructor takes a resource server object the provider builds internally; its shape is the
// provider's, not a public API.
import type Provider from 'oidc-provider';
import { expectShape, isFunction } from './shape.js';

type ProviderClient = InstanceType<Provider['Client']>;
type ClientCredentials = InstanceType<Provider['ClientCredentials']>;

/** The resource server a token is for, as the provider's models read it. */
export interface ModelResourceServer {
  scope: string;
  audience: string;
  accessTokenFormat: 'opaque' | 'jwt';
  accessTokenTTL: number;
  /** For the jwt format (RFC 9068): the algorithm of the provider's key that signs the token. */
  jwt?: { sign: { alg: 'RS256' | 'ES256' | 'EdDSA' } };
}

export function checkClientCredentialsModel(provider: Provider): void {
  const model = provider.ClientCredentials as unknown as { prototype?: { save?: unknown } } | undefined;
  expectShape(isFunction(model) && isFunction(model.prototype?.save), 'ClientCredentials model not found');
}

/** A new, unsaved client_credentials token of `client` with `scope`, for `resourceServer`. */
export function newClientCredentials(
  provider: Provider,
  client: ProviderClient,
  scope: string | undefined,
  resourceServer: ModelResourceServer,
): ClientCredentials {
  // The provider's own resource server objects answer identifier() with their audience.
  const server = { ...resourceServer, identifier: () => resourceServer.audience };
  return new provider.ClientCredentials({ client, scope, resourceServer: server } as never);
}
