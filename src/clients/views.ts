import type { Client } from '../db/database.js';

/** A client as the admin API and CLI show it: RFC 7591 names, never a secret or its hash. */
export function clientView(client: Client) {
  return {
    client_id: client.id,
    client_name: client.name ?? undefined,
    grant_types: client.grantTypes,
    scope: client.scopes.join(' '),
    default_scope: client.defaultScopes.join(' '),
    redirect_uris: client.redirectUris,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    access_token_ttl: client.accessTokenTtl ?? undefined,
    resource_server: client.resourceServer,
    refresh_token_idle_ttl: client.refreshTokenIdleTtl ?? undefined,
    refresh_token_absolute_ttl: client.refreshTokenAbsoluteTtl ?? undefined,
    refresh_token_reuse_grace: client.refreshTokenReuseGrace ?? undefined,
    dpop_bound_access_tokens: client.dpopBoundAccessTokens,
    disabled: client.disabled,
    previous_secret_expires_at: activePreviousSecret(client) ? client.previousSecretExpiresAt!.toISOString() : undefined,
    created_at: client.createdAt.toISOString(),
    updated_at: client.updatedAt.toISOString(),
  };
}

/** The argon2id hashes a client's secret may currently match: its secret, and the rotated-out one inside its overlap. */
export function acceptedSecretHashes(client: Pick<Client, 'secretHash' | 'previousSecretHash' | 'previousSecretExpiresAt'>): string[] {
  const hashes = client.secretHash ? [client.secretHash] : [];
  if (activePreviousSecret(client)) hashes.push(client.previousSecretHash!);
  return hashes;
}

function activePreviousSecret(client: Pick<Client, 'previousSecretHash' | 'previousSecretExpiresAt'>): boolean {
  return Boolean(client.previousSecretHash && client.previousSecretExpiresAt && client.previousSecretExpiresAt.getTime() > Date.now());
}
