// POST /introspect without oidc-provider for the requests that matter: a resource server that
// authenticated before, asking about a token it (or another caller) asked about before, or about
// a token that does not exist. The lane (src/tokens/lane.ts) answers them with introspectionRoute;
// cacheIntrospections keeps the provider's answers it needs. Anything else (first contact, a
// failure, an unusual request) goes to the provider untouched, so every answer, error or not, is
// the provider's own (RFC 7662), and revocations still end tokens at once: they evict from the
// cache before the revocation is answered (see src/cache/caches.ts).
import type { ParsedUrlQuery } from 'node:querystring';
import type { Context, Next } from 'koa';
import type { Caches } from '../cache/caches.js';
import { sha256, type SecretVerifier } from '../clients/secrets.js';
import type { ClientService } from '../clients/service.js';
import type { Database } from '../db/database.js';
import type { AuditLog } from '../audit/audit-log.js';
import { recordIntrospection } from '../oidc/operations.js';
import { isPlainForm, readForm, rememberedCaller } from './form-request.js';
import type { LaneRoute } from './lane.js';
import { tokenStore } from './store/token-store.js';

const INACTIVE = '{"active":false}';
/** Parameters the provider reads for client authentication: their presence means it must decide. */
const AUTH_PARAMS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];

export interface IntrospectionCacheDeps {
  path: string;
  caches: Caches;
  clients: ClientService;
  secrets: SecretVerifier;
}

/**
 * Koa middleware that keeps the provider's active answers for the lane: an introspection by a
 * caller verified before, of a token the lane could not answer from memory, is answered by the
 * provider, and an active access token's answer is cached (unless something was evicted meanwhile).
 */
export function cacheIntrospections({ path, caches, clients, secrets }: IntrospectionCacheDeps) {
  return async function cacheIntrospections(ctx: Context, next: Next): Promise<void> {
    if (!caches.usable || !isPlainForm(ctx, path)) return next();
    const caller = await rememberedCaller(ctx, clients, secrets);
    if (!caller) return next();
    // The provider reads the body readForm leaves.
    const params = await readForm(ctx);
    if (!isPlainTokenQuery(params)) return next();
    const hash = sha256(params.token);
    const generation = caches.tokens.generation;
    await next();
    const body = ctx.status === 200 ? (ctx.body as Record<string, unknown> | undefined) : undefined;
    if (body?.active !== true || typeof body.token_type !== 'string' || typeof body.exp !== 'number' || typeof body.client_id !== 'string') return;
    if (body.client_id !== caller.id && !caller.resourceServer) return;
    // Only a token whose grant is known can be evicted when that grant is revoked.
    const found = introspected(ctx);
    if (!found) return;
    const subject = typeof body.sub === 'string' ? body.sub : undefined;
    const entry = { body: JSON.stringify(body), clientId: body.client_id, subject, tokenType: body.token_type, grantId: found.grantId, expiresAt: body.exp * 1000 };
    caches.tokens.set(hash, entry, generation);
  };
}

export interface IntrospectionRouteDeps {
  db: Database;
  caches: Caches;
  audit: AuditLog;
}

/**
 * The introspection lane route (src/tokens/lane.ts): a cached token, answered with the provider's
 * cached answer and policy, or a token no live row exists for, answered inactive. A token with a
 * row that is not cached, and a failed lookup (Koa answers a database outage with 503), go to Koa.
 */
export function introspectionRoute({ db, caches, audit }: IntrospectionRouteDeps): LaneRoute {
  return {
    endpoint: 'introspect',
    answeredAs: 'introspection_lane',
    headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'WWW-Authenticate', Vary: 'Origin' },
    accepts: () => true,
    async plan(params, caller) {
      if (!isPlainTokenQuery(params)) return undefined;
      const hash = sha256(params.token);
      const cached = caches.tokens.get(hash);
      if (!cached && (await tokenMayExist(db, hash).catch(() => true))) return undefined;
      return async (request) => {
        // The provider's allowedPolicy: a client sees its own tokens, a resource server any.
        const visible = cached !== undefined && (cached.clientId === caller.id || caller.resourceServer);
        const answer = visible ? { active: true, client_id: cached.clientId, sub: cached.subject, token_type: cached.tokenType } : { active: false };
        recordIntrospection(audit, request, { caller: caller.id, answer, tokenId: hash, grantId: cached?.grantId });
        return visible ? cached.body : INACTIVE;
      };
    },
  };
}

/** Whether a live row of a token that can be introspected has this hash: only then is the provider asked. */
function tokenMayExist(db: Database, hash: string): Promise<boolean> {
  return tokenStore(db).liveTokenExists(hash);
}

/**
 * One opaque token and at most one hint, and no client authentication in the body: a query the
 * fast lane can answer. A JWT (with dots) or anything else is for the provider.
 */
function isPlainTokenQuery(params: ParsedUrlQuery): params is ParsedUrlQuery & { token: string } {
  const { token, token_type_hint: hint } = params;
  if (typeof token !== 'string' || !token || token.includes('.') || Array.isArray(hint)) return false;
  return !AUTH_PARAMS.some((name) => name in params);
}

/** The access token the provider's introspection action found (it records it on ctx.oidc). */
function introspected(ctx: Context): { grantId?: string } | undefined {
  type Found = { grantId?: string } | undefined;
  const entities = (ctx as { oidc?: { entities?: { AccessToken?: Found; ClientCredentials?: Found } } }).oidc?.entities;
  return entities?.AccessToken ?? entities?.ClientCredentials;
}
