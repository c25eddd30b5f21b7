// POST /introspect for the requests that matter, answered without oidc-provider's request
// pipeline: a caller authenticated with client_secret_basic asking about a token whose provider
// answer is remembered, or about a token that does not exist. The provider answers the rest (a
// live token not yet remembered, other client authentication, anything unusual), and
// cacheIntrospections remembers its active answers. Revocations still end tokens at once: they
// evict from the cache before the revocation is answered (src/cache/caches.ts).
import type { Context, Next } from 'koa';
import type { Caches } from '../cache/caches.js';
import type { CachedToken } from '../cache/token-cache.js';
import { sha256 } from '../clients/secrets.js';
import type { FormHandler } from '../http/pipeline.js';
import { recordIntrospection } from '../oidc/operations.js';
import type { ResourceServerService } from '../resource-servers/service.js';
import { authenticateCaller, isTokenQuery, refuseCaller, type CallerDeps } from './caller.js';
import { audiences, mayIntrospect } from './policy.js';

/** The headers of the provider's introspection answers to a request without Origin. */
const HEADERS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'WWW-Authenticate', Vary: 'Origin' };
const INACTIVE = '{"active":false}';

/**
 * RFC 9701: a caller that accepts a signed introspection response (a JWT) may get one; the
 * provider signs it (features.jwtIntrospection), so any request that names that type goes to it.
 */
export const wantsSignedIntrospection = (accept: string | undefined) => accept !== undefined && /token-introspection\+jwt/i.test(accept);

export interface IntrospectionHandlerDeps extends CallerDeps {
  caches: Caches;
  /** Where a caller's linked resource server is found: it may see the tokens issued for it. */
  resourceServers: ResourceServerService;
  /** Whether a live, introspectable token has this hashed value (the token store's one lookup). */
  tokenMayExist(hash: string): Promise<boolean>;
}

export function introspectionHandler(deps: IntrospectionHandlerDeps): FormHandler {
  const { caches, operations } = deps;
  return async function introspect(request) {
    const { form, origin } = request;
    if (!isTokenQuery(form) || !caches.usable || wantsSignedIntrospection(request.headers.accept)) return undefined;
    const hash = sha256(form.token);
    const entry = caches.tokens.get(hash);
    // Only the provider's own answer is given; an entry the gateway check made has none.
    if (entry && !entry.body) return undefined;
    const cached = entry as (CachedToken & { body: string }) | undefined;
    if (!cached && (await deps.tokenMayExist(hash))) return undefined;
    const caller = await authenticateCaller(request, deps, 'introspect');
    if (caller && 'refused' in caller) return refuseCaller(request, deps, 'introspect', HEADERS, caller);
    if (!caller) return undefined;
    // Only a client linked to a resource server has an audience to look up (a wait less for the others).
    const servesAudience = caller.resourceServerId ? await deps.resourceServers.identifierOf(caller.resourceServerId) : undefined;
    const { id, resourceServer, tokenEndpointAuthMethod } = caller;
    const visible = cached !== undefined && mayIntrospect({ id, resourceServer, tokenEndpointAuthMethod, servesAudience }, cached);
    const answer = visible
      ? { active: true, client_id: cached.clientId, sub: cached.subject, token_type: cached.tokenType, aud: cached.audience }
      : { active: false };
    recordIntrospection(operations.audit, origin, { caller: caller.id, answer, tokenId: hash, grantId: cached?.grantId });
    return { body: visible ? cached.body : INACTIVE, headers: HEADERS };
  };
}

/**
 * Koa middleware around the provider's introspection: remembers its active answers for the
 * introspection handler (unless something was evicted meanwhile). Who may see a remembered answer
 * is decided again by the policy at each request.
 */
export function cacheIntrospections(path: string, caches: Caches) {
  return async function cacheIntrospections(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== path || ctx.method !== 'POST' || !caches.usable) return next();
    const generation = caches.tokens.generation;
    await next();
    const body = ctx.status === 200 ? (ctx.body as Record<string, unknown> | undefined) : undefined;
    if (body?.active !== true || typeof body.token_type !== 'string' || typeof body.exp !== 'number' || typeof body.client_id !== 'string') return;
    const oidc = (ctx as { oidc?: { params?: { token?: unknown }; entities?: Record<string, { grantId?: string } | undefined> } }).oidc;
    const token = oidc?.params?.token;
    // Only a token whose grant is known can be evicted when that grant is revoked. A JWT is not
    // kept: the handler never answers one, and its revocation names its jti, not its value's hash.
    const found = oidc?.entities?.AccessToken ?? oidc?.entities?.ClientCredentials;
    if (typeof token !== 'string' || token.includes('.') || !found) return;
    const subject = typeof body.sub === 'string' ? body.sub : undefined;
    const audience = audiences(body.aud);
    const jkt = (body.cnf as { jkt?: unknown } | undefined)?.jkt;
    const entry: CachedToken = {
      body: JSON.stringify(body),
      clientId: body.client_id,
      subject,
      tokenType: body.token_type,
      grantId: found.grantId,
      expiresAt: body.exp * 1000,
      scope: typeof body.scope === 'string' ? body.scope : '',
      audience,
      jkt: typeof jkt === 'string' ? jkt : undefined,
    };
    caches.tokens.set(sha256(token), entry, generation);
  };
}
