// Resource-server input accepted by the admin API and CLI, checked at the edge.
import { z } from 'zod';
import { SCOPE_TOKEN } from '../clients/schema.js';
import { MAX_ACCESS_TOKEN_TTL } from '../config/config.js';
import { SIGNING_ALGS } from '../crypto/signing-keys.js';

export const ACCESS_TOKEN_FORMATS = ['opaque', 'jwt'] as const;
export const RESOURCE_SERVER_ID_PATTERN = /^[0-9a-f-]{36}$/;

/**
 * RFC 8707 §2: an absolute URI without a fragment. It is every token's `aud`, compared as a
 * string, so it is kept exactly as given (no normalisation that would change what a client sends).
 */
export const resourceIdentifier = z
  .string()
  .min(1)
  .max(2000)
  .refine((value) => URL.canParse(value) && !/[\s\x00-\x1f\x7f]/.test(value), 'must be an absolute URI')
  .refine((value) => !value.includes('#'), 'must not contain a fragment (RFC 8707 §2)');

/**
 * Whether an identifier names the same resource as the issuer once read as a URL is: scheme and
 * host in any case, the default port or none, `.` and `..` segments, a trailing slash, user info.
 * The issuer's own tokens carry its identifier as their `aud`, so a resource server under it would
 * take them for its own (a client linked to it could introspect every one).
 */
export function namesIssuer(identifier: string, issuer: string): boolean {
  const [a, b] = [URL.parse(identifier), URL.parse(issuer)];
  if (!a || !b) return false;
  const trimmed = (url: URL) => `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}${url.search}`;
  return trimmed(a) === trimmed(b);
}

/** The scopes a resource server defines: RFC 6749 scope tokens, each once. */
const scopes = z
  .array(z.string().max(128).regex(SCOPE_TOKEN, 'must be an RFC 6749 scope token'))
  .max(100)
  .transform((list) => [...new Set(list)]);

/**
 * Where clients reach the API, when not at the scheme and host a gateway forwards (a TLS terminator
 * in front of the gateway, say): the gateway check rebuilds DPoP proofs' htu with it. An origin.
 */
const publicBaseUrl = z
  .string()
  .max(2000)
  .refine((value) => {
    const url = URL.parse(value);
    return url !== null && (url.protocol === 'https:' || url.protocol === 'http:') && value.replace(/\/$/, '') === url.origin;
  }, 'must be an http(s) origin, e.g. https://api.example.com');

const fields = {
  identifier: resourceIdentifier,
  name: z.string().trim().min(1).max(200),
  scopes,
  access_token_format: z.enum(ACCESS_TOKEN_FORMATS),
  access_token_ttl: z.number().int().min(1).max(MAX_ACCESS_TOKEN_TTL).nullable(),
  signing_alg: z.enum(SIGNING_ALGS),
  dpop_required: z.boolean(),
  public_base_url: publicBaseUrl.nullable(),
  case_sensitive_paths: z.boolean(),
};

export const createResourceServerInput = z.strictObject({
  identifier: fields.identifier,
  name: fields.name,
  scopes: fields.scopes.default([]),
  access_token_format: fields.access_token_format.default('opaque'),
  access_token_ttl: fields.access_token_ttl.optional(),
  signing_alg: fields.signing_alg.default('RS256'),
  dpop_required: fields.dpop_required.default(false),
  public_base_url: fields.public_base_url.optional(),
  case_sensitive_paths: fields.case_sensitive_paths.default(false),
});

export const updateResourceServerInput = z.strictObject({
  identifier: fields.identifier.optional(),
  name: fields.name.optional(),
  scopes: fields.scopes.optional(),
  access_token_format: fields.access_token_format.optional(),
  access_token_ttl: fields.access_token_ttl.optional(),
  signing_alg: fields.signing_alg.optional(),
  dpop_required: fields.dpop_required.optional(),
  public_base_url: fields.public_base_url.optional(),
  case_sensitive_paths: fields.case_sensitive_paths.optional(),
});

export const listResourceServersInput = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(RESOURCE_SERVER_ID_PATTERN, 'must be a resource server id').optional().describe('The next_cursor of the previous page.'),
});

export type CreateResourceServerInput = z.output<typeof createResourceServerInput>;
export type UpdateResourceServerInput = z.output<typeof updateResourceServerInput>;
