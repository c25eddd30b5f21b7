// Client metadata accepted by the admin API and CLI: RFC 7591 names, checked at the edge.
import { z } from 'zod';
import { MAX_ACCESS_TOKEN_TTL, MAX_REFRESH_REUSE_GRACE, MAX_REFRESH_TOKEN_TTL } from '../config/config.js';

/** RFC 6749 §3.3 scope-token. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
export const SUPPORTED_GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;
export const SECRET_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;
/** `none`: a public client (a browser or mobile app) that holds no secret and must use PKCE. */
export const TOKEN_ENDPOINT_AUTH_METHODS = [...SECRET_AUTH_METHODS, 'none'] as const;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export const scopeList = z
  .string()
  .max(2000)
  .transform((value) => [...new Set(value.split(' ').filter(Boolean))])
  .refine((scopes) => scopes.every((s) => SCOPE_TOKEN.test(s) && s.length <= 128), 'must be space-separated RFC 6749 scope tokens')
  .refine((scopes) => scopes.length <= 100, 'must list at most 100 scopes');

const redirectUri = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .refine((v) => !v.includes('#'), 'must not contain a fragment')
  // RFC 9700 §2.1: codes travel only over TLS, except to the user's own machine.
  .refine((v) => !v.startsWith('http:') || LOOPBACK_HOSTS.has(new URL(v).hostname), 'must use https (http only for localhost, 127.0.0.1 or [::1])');

/** What a client id may look like; anything else names no client. */
export const CLIENT_ID_PATTERN = /^[\w.~-]{1,64}$/;
const clientId = z.string().regex(CLIENT_ID_PATTERN, 'must be 1-64 of A-Z a-z 0-9 . _ ~ -');

const fields = {
  client_name: z.string().trim().min(1).max(200),
  grant_types: z.array(z.enum(SUPPORTED_GRANT_TYPES)).min(1).max(SUPPORTED_GRANT_TYPES.length),
  scope: scopeList,
  default_scope: scopeList,
  redirect_uris: z.array(redirectUri).max(20),
  token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS),
  access_token_ttl: z.number().int().min(1).max(MAX_ACCESS_TOKEN_TTL).nullable(),
  resource_server: z.boolean(),
  resource_server_id: z
    .string()
    .regex(/^[0-9a-f-]{36}$/, 'must be a resource server id')
    .nullable()
    .describe("The resource server this client acts for: it may introspect tokens whose aud is that server's identifier."),
  refresh_token_idle_ttl: z.number().int().min(60).max(MAX_REFRESH_TOKEN_TTL).nullable(),
  refresh_token_absolute_ttl: z.number().int().min(60).max(MAX_REFRESH_TOKEN_TTL).nullable(),
  refresh_token_reuse_grace: z.number().int().min(0).max(MAX_REFRESH_REUSE_GRACE).nullable(),
  dpop_bound_access_tokens: z.boolean(),
};

/** What a client's metadata must satisfy as a whole, on create and after every update. */
export interface ClientShape {
  grant_types: readonly string[];
  redirect_uris: readonly string[];
  token_endpoint_auth_method: string;
  resource_server: boolean;
  resource_server_id?: string | null;
}

/** The first rule the combination breaks, naming the field to change; undefined when it is sound. */
export function clientShapeProblem(c: ClientShape): { field: string; message: string } | undefined {
  const grants = new Set(c.grant_types);
  if (c.token_endpoint_auth_method === 'none') {
    if (grants.has('client_credentials'))
      return { field: 'token_endpoint_auth_method', message: 'none (a public client) cannot use the client_credentials grant' };
    if (c.resource_server) return { field: 'resource_server', message: 'a public client (token_endpoint_auth_method none) cannot be a resource server' };
    if (c.resource_server_id)
      return { field: 'resource_server_id', message: 'a public client (token_endpoint_auth_method none) cannot act for a resource server' };
  }
  if (grants.has('refresh_token') && !grants.has('authorization_code')) {
    return { field: 'grant_types', message: 'refresh_token requires authorization_code (refresh tokens come from signing in)' };
  }
  if (grants.has('authorization_code') && c.redirect_uris.length === 0) {
    return { field: 'redirect_uris', message: 'authorization_code requires at least one redirect URI' };
  }
  return undefined;
}

export const createClientInput = z
  .strictObject({
    client_id: clientId.optional(),
    client_name: fields.client_name.optional(),
    grant_types: fields.grant_types.default(['client_credentials']),
    scope: fields.scope.default([]),
    default_scope: fields.default_scope.optional(),
    redirect_uris: fields.redirect_uris.default([]),
    token_endpoint_auth_method: fields.token_endpoint_auth_method.default('client_secret_basic'),
    access_token_ttl: fields.access_token_ttl.optional(),
    resource_server: fields.resource_server.default(false),
    resource_server_id: fields.resource_server_id.optional(),
    refresh_token_idle_ttl: fields.refresh_token_idle_ttl.optional(),
    refresh_token_absolute_ttl: fields.refresh_token_absolute_ttl.optional(),
    refresh_token_reuse_grace: fields.refresh_token_reuse_grace.optional(),
    dpop_bound_access_tokens: fields.dpop_bound_access_tokens.default(false),
  })
  .refine((c) => (c.default_scope ?? []).every((s) => c.scope.includes(s)), {
    path: ['default_scope'],
    message: 'must be a subset of scope',
  })
  .superRefine((c, ctx) => {
    const problem = clientShapeProblem(c);
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
  });

export const updateClientInput = z.strictObject({
  client_name: fields.client_name.nullable().optional(),
  grant_types: fields.grant_types.optional(),
  scope: fields.scope.optional(),
  default_scope: fields.default_scope.optional(),
  redirect_uris: fields.redirect_uris.optional(),
  token_endpoint_auth_method: fields.token_endpoint_auth_method.optional(),
  access_token_ttl: fields.access_token_ttl.optional(),
  resource_server: fields.resource_server.optional(),
  resource_server_id: fields.resource_server_id.optional(),
  refresh_token_idle_ttl: fields.refresh_token_idle_ttl.optional(),
  refresh_token_absolute_ttl: fields.refresh_token_absolute_ttl.optional(),
  refresh_token_reuse_grace: fields.refresh_token_reuse_grace.optional(),
  dpop_bound_access_tokens: fields.dpop_bound_access_tokens.optional(),
  disabled: z.boolean().optional(),
});

export const rotateSecretInput = z.strictObject({
  /** How long the replaced secret keeps working, so deployments can roll over. */
  overlap_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 86400)
    .default(0),
});

export const listClientsInput = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: clientId.optional().describe('The next_cursor of the previous page.'),
});

export type CreateClientInput = z.output<typeof createClientInput>;
export type UpdateClientInput = z.output<typeof updateClientInput>;
