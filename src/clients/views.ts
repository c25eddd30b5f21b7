import { z } from 'zod';
import type { Client } from '../db/database.js';
import { SUPPORTED_GRANT_TYPES, TOKEN_ENDPOINT_AUTH_METHODS } from './schema.js';

const instant = z.iso.datetime();

/** A client as the admin API and CLI show it: RFC 7591 names, never a secret or its hash. */
export const clientViewSchema = z.strictObject({
  client_id: z.string(),
  client_name: z.string().optional(),
  grant_types: z.array(z.enum(SUPPORTED_GRANT_TYPES)),
  scope: z.string().describe('Space-separated scopes the client may request.'),
  default_scope: z.string().describe('Space-separated scopes granted when a token request names none.'),
  redirect_uris: z.array(z.string()),
  token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS),
  access_token_ttl: z.number().int().optional().describe("Seconds; absent: the server's default."),
  resource_server: z.boolean(),
  resource_server_id: z.string().optional().describe('The resource server this client acts for (it may introspect the tokens issued for it).'),
  refresh_token_idle_ttl: z.number().int().optional(),
  refresh_token_absolute_ttl: z.number().int().optional(),
  refresh_token_reuse_grace: z.number().int().optional(),
  dpop_bound_access_tokens: z.boolean(),
  disabled: z.boolean(),
  previous_secret_expires_at: instant.optional().describe('During a rotation overlap: when the previous secret stops working.'),
  created_at: instant,
  updated_at: instant,
});

/** A client with the secret it was just given, shown once; a public client (auth method none) has none. */
export const clientWithSecretSchema = clientViewSchema.extend({
  client_secret: z.string().optional().describe('Shown this once; Tollgate keeps only its hash.'),
  client_secret_expires_at: z.literal(0).optional().describe('RFC 7591 §3.2.1: 0, the secret does not expire.'),
});

export const clientPageSchema = z.strictObject({
  clients: z.array(clientViewSchema),
  next_cursor: z.string().optional().describe('The cursor of the next page; absent on the last page.'),
});

export type ClientView = z.output<typeof clientViewSchema>;

export function clientView(client: Client): ClientView {
  return {
    client_id: client.id,
    client_name: client.name ?? undefined,
    // The store holds only what createClientInput and updateClientInput admitted.
    grant_types: client.grantTypes as ClientView['grant_types'],
    scope: client.scopes.join(' '),
    default_scope: client.defaultScopes.join(' '),
    redirect_uris: client.redirectUris,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod as ClientView['token_endpoint_auth_method'],
    access_token_ttl: client.accessTokenTtl ?? undefined,
    resource_server: client.resourceServer,
    resource_server_id: client.resourceServerId ?? undefined,
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

/** A client and the secret it was just given (RFC 7591 §3.2.1: client_secret_expires_at 0, it does not expire). */
export function clientWithSecretView({ client, secret }: { client: Client; secret?: string }): z.output<typeof clientWithSecretSchema> {
  return { ...clientView(client), ...(secret ? { client_secret: secret, client_secret_expires_at: 0 as const } : {}) };
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
