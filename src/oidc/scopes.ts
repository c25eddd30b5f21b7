import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { grantResourceScope, grantScope, PROTOCOL_SCOPES, type ResourceServerFacts } from '../tokens/policy.js';
import { clientFactsOf } from './client-metadata.js';

/**
 * The scope policy (src/tokens/policy.ts) in front of a grant: the request's scope becomes the
 * granted one, or the request fails with invalid_scope. oidc-provider on its own would drop a
 * scope it does not know silently.
 */
export function enforceClientScopes(ctx: KoaContextWithOIDC, server?: ResourceServerFacts): void {
  applyScopePolicy(ctx, new Set(), server);
}

/**
 * The same at the authorization endpoint, where `openid` and `offline_access` may be asked for
 * too. Errors go back to the client's (already verified) redirect_uri as invalid_scope.
 */
export function enforceAuthorizationScopes(ctx: KoaContextWithOIDC, server?: ResourceServerFacts): void {
  applyScopePolicy(ctx, PROTOCOL_SCOPES, server);
}

/** `server`: the resource server the request names (RFC 8707); none for the issuer's own tokens. */
function applyScopePolicy(ctx: KoaContextWithOIDC, protocolScopes: ReadonlySet<string>, server: ResourceServerFacts | undefined): void {
  const params = ctx.oidc.params!;
  const client = clientFactsOf(ctx.oidc.client!);
  const decision = server ? grantResourceScope(client, server, params.scope, protocolScopes) : grantScope(client, params.scope, protocolScopes);
  // The provider's InvalidScope leaves `scope` out of the answer when it is undefined.
  if ('refused' in decision) throw new errors.InvalidScope(decision.description, decision.refused as string);
  params.scope = decision.granted;
}
