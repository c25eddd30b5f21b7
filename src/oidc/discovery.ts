import type { Context, Next } from 'koa';
import { ADVERTISED_ENDPOINTS, ENDPOINTS } from '../http/endpoints.js';

const RFC8414_PATH = ENDPOINTS.authorizationServerMetadata.path;
const OIDC_PATH = ENDPOINTS.openidConfiguration.path;

/** What Tollgate advertises of the provider's metadata: only the endpoints (src/http/endpoints.ts) and features it serves. */
const ADVERTISED = [
  'issuer',
  ...ADVERTISED_ENDPOINTS,
  'token_endpoint_auth_methods_supported',
  'dpop_signing_alg_values_supported',
  'code_challenge_methods_supported',
  'response_modes_supported',
  'authorization_response_iss_parameter_supported',
  // An ID token is issued when a client asks for scope openid.
  'id_token_signing_alg_values_supported',
  // RFC 9701: signed introspection responses.
  'introspection_signing_alg_values_supported',
  'subject_types_supported',
];

/**
 * Serves RFC 8414 metadata at its own well-known path from the provider's OpenID discovery
 * document, and trims both to what Tollgate actually serves.
 */
export async function discovery(ctx: Context, next: Next): Promise<void> {
  const isRfc8414 = ctx.path === RFC8414_PATH;
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
  if (!isRfc8414 && ctx.path !== OIDC_PATH) return next();
  if (isRfc8414) ctx.path = OIDC_PATH;
  await next();
  if (isRfc8414) ctx.path = RFC8414_PATH;
  if (ctx.status !== 200 || typeof ctx.body !== 'object' || ctx.body === null) return;
  const full = ctx.body as Record<string, unknown>;
  ctx.body = {
    ...Object.fromEntries(ADVERTISED.filter((key) => key in full).map((key) => [key, full[key]])),
    grant_types_supported: ['client_credentials', 'authorization_code', 'refresh_token'],
    // RFC 7662 §2.1: introspection takes an authenticated caller (src/tokens/policy.ts mayUseIntrospection).
    introspection_endpoint_auth_methods_supported: (full.token_endpoint_auth_methods_supported as string[]).filter((method) => method !== 'none'),
    revocation_endpoint_auth_methods_supported: full.token_endpoint_auth_methods_supported,
    response_types_supported: ['code'],
  };
}
