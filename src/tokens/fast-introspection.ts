// POST /introspect without oidc-provider for the requests that matter: a resource server that
// authenticated before, asking about a token it (or another caller) asked about before. Anything
// else — first contact, a failure, an unusual request — goes to the provider untouched, so every
// answer, error or not, is the provider's own (RFC 7662), and revocations still end tokens at once:
// they evict from the cache before the revocation is answered (see src/cache/caches.ts).
import type { ParsedUrlQuery } from 'node:querystring';
import type { Context, Next } from 'koa';
import type { Caches } from '../cache/caches.js';
import { sha256, type SecretVerifier } from '../clients/secrets.js';
import type { ClientService } from '../clients/service.js';
import type { Database } from '../db/database.js';
import type { Metrics } from '../metrics/metrics.js';
import { liveRowExists } from '../oidc/token-rows.js';
import { isPlainForm, readForm, rememberedCaller } from './form-request.js';

export const INACTIVE = '{"active":false}';
const INTROSPECTABLE = ['AccessToken', 'ClientCredentials', 'RefreshToken'];
/** Parameters the provider reads for client authentication: their presence means it must decide. */
const AUTH_PARAMS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];

export interface FastIntrospectionDeps {
  path: string;
  db: Database;
  caches: Caches;
  clients: ClientService;
  secrets: SecretVerifier;
  metrics: Metrics;
}

export function fastIntrospection({ path, db, caches, clients, secrets, metrics }: FastIntrospectionDeps) {
  return async function fastIntrospection(ctx: Context, next: Next): Promise<void> {
    if (!caches.usable || !isPlainForm(ctx, path)) return next();
    const caller = await rememberedCaller(ctx, clients, secrets);
    if (!caller) return next();
    // Past this point the provider can still take over: it reads the body readForm leaves.
    const params = await readForm(ctx);
    if (!isPlainTokenQuery(params)) return next();

    const hash = sha256(params.token);
    const cached = caches.tokens.get(hash);
    if (cached) {
      // The provider's allowedPolicy: a client sees its own tokens, a resource server any.
      metrics.fastAnswers.inc({ path: 'introspection' });
      return answer(ctx, cached.clientId === caller.id || caller.resourceServer ? cached.body : INACTIVE);
    }
    if (!(await tokenMayExist(db, hash))) return answer(ctx, INACTIVE);

    // Known to the database: the provider answers, and an active access token's answer is kept.
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

/** Whether a live row of a token that can be introspected has this hash: only then is the provider asked. */
export function tokenMayExist(db: Database, hash: string): Promise<boolean> {
  return liveRowExists(db, INTROSPECTABLE, hash);
}

/**
 * One opaque token and at most one hint, and no client authentication in the body: a query the
 * fast paths can answer. A JWT (with dots) or anything else is for the provider.
 */
export function isPlainTokenQuery(params: ParsedUrlQuery): params is ParsedUrlQuery & { token: string } {
  const { token, token_type_hint: hint } = params;
  if (typeof token !== 'string' || !token || token.includes('.') || Array.isArray(hint)) return false;
  return !AUTH_PARAMS.some((name) => name in params);
}

function answer(ctx: Context, body: string): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/json';
  ctx.body = body;
}

/** The access token the provider's introspection action found (it records it on ctx.oidc). */
function introspected(ctx: Context): { grantId?: string } | undefined {
  type Found = { grantId?: string } | undefined;
  const entities = (ctx as { oidc?: { entities?: { AccessToken?: Found; ClientCredentials?: Found } } }).oidc?.entities;
  return entities?.AccessToken ?? entities?.ClientCredentials;
}
