import { z } from 'zod';
import type { ResourceServer } from '../db/database.js';
import { SIGNING_ALGS } from '../crypto/signing-keys.js';
import { ACCESS_TOKEN_FORMATS } from './schema.js';

const instant = z.iso.datetime();

/** A resource server as the admin API and CLI show it. */
export const resourceServerViewSchema = z.strictObject({
  id: z.string().describe('What the admin paths name it by.'),
  identifier: z.string().describe('An absolute URI: the `resource` clients ask for (RFC 8707) and the `aud` of its tokens.'),
  name: z.string(),
  scopes: z.array(z.string()).describe('The scopes it defines; a token for it carries only these.'),
  access_token_format: z.enum(ACCESS_TOKEN_FORMATS).describe('opaque (checked by introspection) or jwt (RFC 9068, checked locally).'),
  access_token_ttl: z.number().int().optional().describe("Seconds; absent: the server's default. A client's own access_token_ttl can only shorten it."),
  signing_alg: z.enum(SIGNING_ALGS).describe('What its JWT access tokens are signed with.'),
  dpop_required: z.boolean().describe('Tokens for it are issued only with a DPoP proof (RFC 9449).'),
  public_base_url: z
    .string()
    .optional()
    .describe('Where clients reach it, when not where a gateway forwards: the scheme and host of DPoP proofs checked by the gateway check.'),
  case_sensitive_paths: z
    .boolean()
    .describe(
      'The API tells /Admin from /admin: gateway route rules compare paths exactly; false (the default): a path whose letter case changes which rule decides is refused.',
    ),
  created_at: instant,
  updated_at: instant,
});

export const resourceServerPageSchema = z.strictObject({
  resource_servers: z.array(resourceServerViewSchema),
  next_cursor: z.string().optional().describe('The cursor of the next page; absent on the last page.'),
});

export type ResourceServerView = z.output<typeof resourceServerViewSchema>;

export function resourceServerView(server: ResourceServer): ResourceServerView {
  return {
    id: server.id,
    identifier: server.identifier,
    name: server.name,
    scopes: server.scopes,
    // The store holds only what the input schemas admitted.
    access_token_format: server.accessTokenFormat as ResourceServerView['access_token_format'],
    access_token_ttl: server.accessTokenTtl ?? undefined,
    signing_alg: server.signingAlg as ResourceServerView['signing_alg'],
    dpop_required: server.dpopRequired,
    public_base_url: server.publicBaseUrl ?? undefined,
    case_sensitive_paths: server.caseSensitivePaths,
    created_at: server.createdAt.toISOString(),
    updated_at: server.updatedAt.toISOString(),
  };
}
