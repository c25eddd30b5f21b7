// POST /introspect for the requests that matter, answered without oidc-provider's request
// pipeline: a caller authenticated with client_secret_basic asking about a token whose provider
// answer is remembered, or about a token that does not exist. The provider answers the rest (a
// live token not yet remembered, other client authentication, anything unusual), and
// cacheIntrospections remembers its active answers. Revocations still end tokens at once: they
// evict from the cache before the revocation is answered (src/cache/caches.ts).
import type { Context, Next } from 'koa';
import type { Caches } from '../cache/caches.js';
import type { CachedToken } from '../cache/token-cache.js';
import { sha256 } from '../crypto/hash.js';
import { INTROSPECTION_CORS } from '../http/answers.js';
import type { FormHandler, FormRequest } from '../http/pipeline.js';
import { recordIntrospection } from '../oidc/operations.js';
import type { ResourceServerService } from '../resource-servers/service.js';
import { authenticateCaller, isTokenQuery, tokenEndpoint, type CallerDeps, type CallerState } from './caller.js';
import { audiences, mayIntrospect } from './policy.js';
import { handlerOf, PROVIDERS, type Outcome } from './steps.js';

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

interface Introspection extends CallerState<IntrospectionHandlerDeps> {
  /** The token's hash: the cache's key and its id in the audit trail. */
  hash: string;
  /** The provider's remembered answer about the token; none for a token that does not exist. */
  remembered: (CachedToken & { body: string }) | undefined;
  /** Whether the caller may see the token's answer. */
  visible: boolean;
}

/** One opaque token and at most one hint, while the caches are usable, for an answer in plain JSON. */
function readTokenQuery({ request: { form, headers }, deps }: Introspection): Outcome {
  if (!isTokenQuery(form) || !deps.caches.usable || wantsSignedIntrospection(headers.accept)) return PROVIDERS;
}

/**
 * The provider's remembered answer, or the certainty that the token does not exist; a live token
 * not yet remembered is the provider's, and so is an entry the gateway check made (it has no answer).
 */
async function findRememberedAnswer(state: Introspection): Promise<Outcome> {
  state.hash = sha256(state.request.form.token as string);
  const entry = state.deps.caches.tokens.get(state.hash);
  if (entry && !entry.body) return PROVIDERS;
  state.remembered = entry as (CachedToken & { body: string }) | undefined;
  if (!entry && (await state.deps.tokenMayExist(state.hash))) return PROVIDERS;
}

/** RFC 7662 §2.1: the policy decides, at each request, whether the caller may see the token (a token that does not exist, nobody). */
function checkVisibility(state: Introspection): Outcome | Promise<Outcome> {
  const { remembered, caller } = state;
  if (!remembered) return;
  // Only a client linked to a resource server has an audience to look up (a wait less for the others).
  if (!caller!.resourceServerId) state.visible = mayIntrospect(visibilityFacts(caller!, undefined), remembered);
  else return checkCallerMaySee(state, remembered);
}

async function checkCallerMaySee(state: Introspection, remembered: CachedToken): Promise<Outcome> {
  const caller = state.caller!;
  state.visible = mayIntrospect(visibilityFacts(caller, await state.deps.resourceServers.identifierOf(caller.resourceServerId)), remembered);
  return undefined;
}

/** What the policy reads of the caller, without a copy of its whole row. */
function visibilityFacts({ id, resourceServer, tokenEndpointAuthMethod }: NonNullable<Introspection['caller']>, servesAudience: string | undefined) {
  return { id, resourceServer, tokenEndpointAuthMethod, servesAudience };
}

/** The provider's remembered answer, or inactive (RFC 7662 §2.2), recorded in the audit trail. */
function answerIntrospection({ request, deps, caller, hash, remembered, visible }: Introspection): Outcome {
  const answer =
    visible && remembered
      ? { active: true, client_id: remembered.clientId, sub: remembered.subject, token_type: remembered.tokenType, aud: remembered.audience }
      : { active: false };
  recordIntrospection(deps.operations.audit, request.origin, { caller: caller!.id, answer, tokenId: hash, grantId: remembered?.grantId });
  return { body: visible ? remembered!.body : INACTIVE, headers: deps.endpoint.headers };
}

const STEPS = [readTokenQuery, findRememberedAnswer, authenticateCaller, checkVisibility, answerIntrospection];

export function introspectionHandler(deps: IntrospectionHandlerDeps): FormHandler {
  const endpointDeps = { ...deps, endpoint: tokenEndpoint('introspect', INTROSPECTION_CORS, deps.issuer) };
  return handlerOf<Introspection>(STEPS, (request: FormRequest) => ({
    request,
    deps: endpointDeps,
    caller: undefined,
    hash: '',
    remembered: undefined,
    visible: false,
  }));
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
