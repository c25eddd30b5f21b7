import { acceptedSecretHashes } from '../clients/views.js';
import type { Client } from '../db/database.js';
import type { ClientFacts } from '../tokens/policy.js';

/** Client metadata properties Tollgate adds to oidc-provider's. */
export const EXTRA_CLIENT_METADATA = [
  'access_token_ttl',
  'resource_server',
  'resource_server_id',
  'allowed_scope',
  'default_scope',
  'accepted_secret_hashes',
  'refresh_token_idle_ttl',
  'refresh_token_absolute_ttl',
  'refresh_token_reuse_grace',
];

/**
 * A client row as oidc-provider metadata. The provider insists on a `client_secret` for the secret
 * authentication methods; it gets the argon2id hash, which is only ever passed to argon2.verify
 * by our compareClientSecret (see secret-comparison.ts), never compared or sent as is.
 */
export function clientMetadata(client: Client) {
  const hashes = acceptedSecretHashes(client);
  return {
    client_id: client.id,
    client_name: client.name ?? undefined,
    client_secret: client.secretHash ?? undefined,
    grant_types: client.grantTypes,
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    redirect_uris: client.redirectUris,
    // Not `scope`: oidc-provider accepts there only its own static scopes. enforceClientScopes reads this.
    allowed_scope: client.scopes.join(' '),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    access_token_ttl: client.accessTokenTtl ?? undefined,
    resource_server: client.resourceServer,
    resource_server_id: client.resourceServerId ?? undefined,
    default_scope: client.defaultScopes.join(' '),
    accepted_secret_hashes: hashes,
    refresh_token_idle_ttl: client.refreshTokenIdleTtl ?? undefined,
    refresh_token_absolute_ttl: client.refreshTokenAbsoluteTtl ?? undefined,
    refresh_token_reuse_grace: client.refreshTokenReuseGrace ?? undefined,
    // RFC 9449 §5.2, understood by oidc-provider itself: token requests without a DPoP proof are refused.
    dpop_bound_access_tokens: client.dpopBoundAccessTokens,
  };
}

/** What the provider gives back for a client: the fields above, in snake_case. */
export type TollgateClientMetadata = Partial<ReturnType<typeof clientMetadata>>;

/** An oidc-provider client, as far as its metadata goes. */
export interface MetadataHolder {
  metadata(): unknown;
}

const seen = new WeakMap<MetadataHolder, TollgateClientMetadata>();

/**
 * A provider client's metadata. The provider rebuilds it on every metadata() call (a key
 * conversion over some eighty properties, ~8% of an issuance's CPU when read for the scope, TTL
 * and secret checks), but it keeps one client object per unchanged registration, so the result
 * is kept per object: a changed client is a new object.
 */
export function metadataOf(client: MetadataHolder): TollgateClientMetadata {
  let metadata = seen.get(client);
  if (!metadata) seen.set(client, (metadata = client.metadata() as TollgateClientMetadata));
  return metadata;
}

const facts = new WeakMap<MetadataHolder, ClientFacts>();

/** A provider client as the policy (src/tokens/policy.ts) sees it: the registration it was made from. */
export function clientFactsOf(client: MetadataHolder): ClientFacts {
  let known = facts.get(client);
  if (!known) {
    const metadata = metadataOf(client);
    const words = (value: string | undefined) => (value ?? '').split(' ').filter(Boolean);
    known = {
      id: metadata.client_id!,
      scopes: words(metadata.allowed_scope),
      defaultScopes: words(metadata.default_scope),
      tokenEndpointAuthMethod: metadata.token_endpoint_auth_method ?? 'client_secret_basic',
      resourceServer: metadata.resource_server === true,
      accessTokenTtl: metadata.access_token_ttl,
    };
    facts.set(client, known);
  }
  return known;
}
