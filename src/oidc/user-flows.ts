// oidc-provider configuration for users: the authorization code flow with PKCE, sign-in and
// consent through Tollgate's interaction pages, remembered consents, refresh-token lifetimes and
// DPoP. provider.ts merges it into the rest of the configuration.
import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { CONSOLE_CLIENT_ID } from '../clients/service.js';
import { INTERACTION_TTL, type Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import { isPathOf } from '../http/endpoints.js';
import type { UserService } from '../users/service.js';
import { proofFirstUse } from './dpop-proofs.js';
import { metadataOf, type MetadataHolder } from './client-metadata.js';
import { replaceReplayDetection } from './internals/index.js';
import type { KeySet } from '../keys/store.js';
import { installRotation } from './refresh-rotation.js';
import { PROTOCOL_SCOPES } from '../tokens/policy.js';
import type { SecurityEvents } from './security-events.js';

export const INTERACTION_PATH = '/interaction';
const AUTHORIZATION_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface UserFlowDeps {
  config: Config;
  db: Database;
  users: UserService;
  keys: KeySet;
  events: SecurityEvents;
}

const refreshMeta = (client: MetadataHolder | undefined) => (client ? metadataOf(client) : {});
const now = () => Math.floor(Date.now() / 1000);

export function userFlows({ config, db, users, keys, events }: UserFlowDeps) {
  const idleTtl = (client?: MetadataHolder) => refreshMeta(client).refresh_token_idle_ttl ?? config.refreshTokenIdleTtl;
  const absoluteTtl = (client?: MetadataHolder) => refreshMeta(client).refresh_token_absolute_ttl ?? config.refreshTokenAbsoluteTtl;
  const graceSeconds = (client: MetadataHolder) => refreshMeta(client).refresh_token_reuse_grace ?? config.refreshReuseGraceSeconds;

  const policy = interactionPolicy.base();
  // A browser session whose user was disabled or deleted since signs in again.
  policy
    .get('login')!
    .checks.add(
      new interactionPolicy.Check('account_unavailable', 'the signed-in account is no longer available', 'login_required', (ctx) =>
        ctx.oidc.session?.accountId !== undefined && ctx.oidc.account === undefined
          ? interactionPolicy.Check.REQUEST_PROMPT
          : interactionPolicy.Check.NO_NEED_TO_PROMPT,
      ),
    );

  const configuration = {
    interactions: {
      policy,
      url: async (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `${config.issuerPath}${INTERACTION_PATH}/${interaction.uid}`,
    },
    findAccount: async (_ctx: KoaContextWithOIDC, sub: string) => {
      const user = await users.findActive(sub);
      return user ? { accountId: user.id, claims: async () => ({ sub: user.id }) } : undefined;
    },
    loadExistingGrant: (ctx: KoaContextWithOIDC) => loadGrant(ctx, users, config.issuer),
    // PKCE with S256 (the only method oidc-provider accepts) for every client, public or not.
    pkce: { required: () => true },
    // Exact redirect_uri matching, and the parameter is always required.
    allowOmittingSingleRegisteredRedirectUri: false,
    // Refresh tokens follow the client's grant types, not offline_access (see docs/sign-in.md): a client
    // registered with refresh_token gets one with every code it exchanges.
    issueRefreshToken: async (_ctx: KoaContextWithOIDC, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    // Tokens outlive the browser's sign-in session: apps keep working after the user signs out there.
    expiresWithSession: async () => false,
    rotateRefreshToken: true,
    // Browser apps (public clients) may call the token endpoint from their redirect URIs' origins.
    clientBasedCORS: (_ctx: KoaContextWithOIDC, origin: string, client: { clientAuthMethod?: string; redirectUris?: readonly string[] }) =>
      client.clientAuthMethod === 'none' && (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin),
  } satisfies Partial<Configuration>;

  const ttl = {
    // A refresh token lives `idle` seconds from its issue, never past `absolute` after the family's first one (iiat).
    RefreshToken: (_ctx: KoaContextWithOIDC, token: { iiat?: number; iat?: number }, client: MetadataHolder) =>
      Math.max(1, Math.min(idleTtl(client), (token.iiat ?? token.iat ?? now()) + absoluteTtl(client) - now())),
    // The grant bounds all its tokens: it must last the family's absolute lifetime from the consent on.
    Grant: (ctx: KoaContextWithOIDC) => absoluteTtl(ctx?.oidc?.client) + INTERACTION_TTL,
    Session: config.sessionTtl,
    Interaction: INTERACTION_TTL,
    IdToken: config.accessTokenTtl,
    AuthorizationCode: 60,
  };

  const features = {
    dPoP: {
      enabled: true,
      nonceSecret: keys.secrets.dpop_nonce,
      requireNonce: () => config.dpopRequireNonce,
      allowReplay: false,
    },
  };

  return {
    configuration,
    ttl,
    features,
    install(provider: Provider) {
      installRotation(provider, { db, events, graceSeconds });
      // The authorization endpoint's own pages: its HTML errors need our stylesheet, and the
      // form_post response mode an inline script, whose hash oidc-provider adds to script-src.
      provider.use(async (ctx, next) => {
        if (isPathOf('authorization', ctx.path)) ctx.set('Content-Security-Policy', AUTHORIZATION_POLICY);
        await next();
      });
      // DPoP proof replay detection, atomically and across instances (the token table), whichever client presents the proof.
      replaceReplayDetection(provider, proofFirstUse(db));
    },
  };
}

/**
 * Each authorization gets a grant of its own, so revoking one (reuse detection, RFC 7009) ends
 * exactly the tokens descended from it. The grant comes from the consent page, or, when the user
 * consented to these scopes for this client before and asked to remember it, is made here without
 * asking again. `prompt=consent` always asks.
 */
async function loadGrant(ctx: KoaContextWithOIDC, users: UserService, issuer: string) {
  const { provider, client, session, result } = ctx.oidc;
  const consented = (result as { consent?: { grantId?: string } } | undefined)?.consent?.grantId;
  if (consented) return provider.Grant.find(consented);
  const accountId = session?.accountId;
  if (!accountId || !client || ctx.oidc.prompts.has('consent')) return undefined;
  // The user is about to be asked to sign in (again): the grant is made after that, for whoever signs in.
  if (ctx.oidc.prompts.has('login') && !(result as { login?: unknown } | undefined)?.login) return undefined;
  const requested = [...ctx.oidc.requestParamScopes];
  // The web console is part of Tollgate: signing in to it asks for no consent.
  const remembered = client.clientId === CONSOLE_CLIENT_ID ? { scopes: requested } : await users.findConsent(accountId, client.clientId);
  if (!remembered || requested.length === 0 || !requested.every((scope) => remembered.scopes.includes(scope))) return undefined;

  const grant = new provider.Grant({ accountId, clientId: client.clientId });
  const protocol = requested.filter((scope) => PROTOCOL_SCOPES.has(scope));
  const resource = requested.filter((scope) => !PROTOCOL_SCOPES.has(scope));
  if (protocol.length) grant.addOIDCScope(protocol.join(' '));
  // Each resource server the request is for (RFC 8707) gets the requested scopes it defines.
  const servers = Object.entries((ctx.oidc as { resourceServers?: Record<string, { scopes: Set<string> }> }).resourceServers ?? {});
  for (const [identifier, server] of servers.length ? servers : [[issuer, undefined] as const]) {
    const scopes = server ? resource.filter((scope) => server.scopes.has(scope)) : resource;
    if (scopes.length) grant.addResourceScope(identifier, scopes.join(' '));
  }
  await grant.save();
  return grant;
}
