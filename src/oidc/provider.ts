import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { ClientAuthenticator } from '../clients/authentication.js';
import { SUPPORTED_GRANT_TYPES } from '../clients/schema.js';
import type { ClientService } from '../clients/service.js';
import type { Config } from '../config/config.js';
import {
  accessTokenLifetime,
  mayIntrospect,
  mayRevoke,
  mayUseIntrospection,
  missesRequiredDpop,
  resourceTokenLifetime,
  revocationEndsGrant,
  targetResource,
} from '../tokens/policy.js';
import type { ResourceServer } from '../db/database.js';
import type { ResourceServerService } from '../resource-servers/service.js';
import type { SigningAlg } from '../crypto/signing-keys.js';
import type { Database } from '../db/database.js';
import { createAdapterFactory } from './adapter.js';
import { clientFactsOf, EXTRA_CLIENT_METADATA, metadataOf, type MetadataHolder } from './client-metadata.js';
import {
  admitJwtTokenQueries,
  checkProviderInternals,
  guardGrantType,
  installKeys,
  installStandardErrors,
  refusePublicIntrospection,
  replaceClientSecretComparison,
  revocationPolicy,
  storeJwtAccessTokens,
  wrapGrantType,
  type ModelResourceServer,
} from './internals/index.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { KeySet } from '../keys/store.js';
import { jwtAccessTokenIds } from './jwt-access-tokens.js';
import { tokenInForceNow } from './access-tokens.js';
import { authenticationOrigin, countPublicClients, instrumentProvider, verifyUnknownClients, type ProviderOperations } from './operations.js';
import { enforceAuthorizationScopes, enforceClientScopes } from './scopes.js';
import type { SecurityEvents } from './security-events.js';
import { userFlows } from './user-flows.js';
import type { UserService } from '../users/service.js';
import { sendErrorPage } from '../http/pages.js';
import { seeRequestsAsIssuer } from '../http/middleware.js';
import { type CONFIGURABLE_PROVIDER_ROUTES, PROVIDER_ROUTES } from '../http/endpoints.js';

export interface ProviderDeps {
  config: Config;
  db: Database;
  clients: ClientService;
  /** The APIs tokens are issued for (RFC 8707), looked up by identifier. */
  resourceServers: ResourceServerService;
  authenticator: ClientAuthenticator;
  keys: KeyRing;
  log: Logger;
  users: UserService;
  events: SecurityEvents;
  /** Audit trail, metrics and rate limits (src/oidc/operations.ts). */
  operations?: ProviderOperations;
}

/**
 * The issuer as a resource server (the admin API, and every token requested without a resource):
 * a client's tokens carry its allowed scopes and access-token lifetime, opaque.
 */
export function resourceServerInfo(config: Config, client: MetadataHolder): ResourceServerInfo {
  return {
    scope: metadataOf(client).allowed_scope ?? '',
    audience: config.issuer,
    accessTokenFormat: 'opaque',
    accessTokenTTL: accessTokenLifetime(clientFactsOf(client), config.accessTokenTtl),
  };
}

/**
 * A registered resource server as oidc-provider's resource server info: its identifier as the
 * audience, the client's allowed scopes that it defines, its format, lifetime and signing algorithm.
 */
export function registeredResourceServerInfo(config: Config, client: MetadataHolder, server: ResourceServer): ResourceServerInfo {
  const facts = clientFactsOf(client);
  return {
    scope: facts.scopes.filter((scope) => server.scopes.includes(scope)).join(' '),
    audience: server.identifier,
    accessTokenFormat: server.accessTokenFormat === 'jwt' ? 'jwt' : 'opaque',
    accessTokenTTL: resourceTokenLifetime(facts, server, config.accessTokenTtl),
    // The store holds only the algorithms the admin schema admits (SIGNING_ALGS).
    ...(server.accessTokenFormat === 'jwt' ? { jwt: { sign: { alg: server.signingAlg as SigningAlg } } } : {}),
  };
}

/** What getResourceServerInfo answers, and the issuance handler's minter gives the provider's model. */
export type ResourceServerInfo = ModelResourceServer;

// The registry's names of the provider's routes are the provider's own: a release that renames one fails to compile here.
type ConfigurableRoute = keyof NonNullable<Configuration['routes']>;
type RegistryRoute = (typeof CONFIGURABLE_PROVIDER_ROUTES)[number];
true satisfies [RegistryRoute, ConfigurableRoute] extends [ConfigurableRoute, RegistryRoute] ? true : false;

/** Provider routes a person's browser visits (the authorization endpoint and its resume step). */
const BROWSER_ROUTES = new Set(['authorization', 'resume']);

export function createProvider({ config, db, clients, resourceServers, authenticator, keys, users, events, operations }: ProviderDeps): Provider {
  const flows = userFlows({ config, db, users, keys: keys.current, events });
  // A token for a resource server lives as long as that server's info says (registeredResourceServerInfo).
  const accessTokenTtl = (_ctx: KoaContextWithOIDC, token: { resourceServer?: { accessTokenTTL?: number } }, client: MetadataHolder) =>
    token.resourceServer?.accessTokenTTL ?? accessTokenLifetime(clientFactsOf(client), config.accessTokenTtl);

  /**
   * The registered resource server a client_credentials request is for (none: the issuer). The
   * target is fixed here, so that the provider issues for the resource the scopes were judged for.
   */
  const requestedResourceServer = async (ctx: KoaContextWithOIDC): Promise<ResourceServer | undefined> => {
    const params = ctx.oidc.params!;
    const target = targetResource(params, config.defaultResource, config.issuer);
    if (typeof target !== 'string') throw new errors.InvalidTarget('only a single resource indicator value is supported for this grant type');
    params.resource = target;
    if (target === config.issuer) return undefined;
    const server = await resourceServers.findByIdentifier(target);
    if (!server) throw new errors.InvalidTarget('unknown resource indicator');
    return server;
  };

  const configuration: Configuration = {
    adapter: createAdapterFactory(db, clients, operations && countPublicClients(operations.limits), jwtAccessTokenIds(keys, config.issuer)),
    jwks: { keys: keys.current.signing.map((key) => key.jwk) },
    cookies: { keys: keys.cookieKeys },
    routes: PROVIDER_ROUTES,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    clientDefaults: { grant_types: ['client_credentials'], response_types: [], token_endpoint_auth_method: 'client_secret_basic' },
    responseTypes: ['code'],
    extraClientMetadata: { properties: EXTRA_CLIENT_METADATA },
    ...flows.configuration,
    ttl: {
      AccessToken: accessTokenTtl as never,
      ClientCredentials: accessTokenTtl as never,
      ...(flows.ttl as Configuration['ttl']),
    },
    // RFC 7662 §2.2: `sub` names the resource owner, which for client_credentials is the client itself.
    extraTokenClaims: async (_ctx, token) => (token.kind === 'ClientCredentials' ? { sub: token.clientId } : undefined),
    // RFC 9068 §2.2.1: a JWT access token of a user's sign-in says when the user authenticated.
    formats: { customizers: { jwt: async (ctx, _token, jwt) => void withAuthTime(ctx, jwt.payload) } },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      clientCredentials: { enabled: true },
      ...flows.features,
      // oidc-provider issues non-OpenID scopes only for a resource server (RFC 8707). Tollgate's
      // tokens all have one audience, the issuer, and each client's allow-list is its scope set.
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx) => targetResource({ scope: ctx.oidc.params?.scope }, config.defaultResource, config.issuer) as string,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator, client) => {
          const server = indicator === config.issuer ? undefined : await resourceServers.findByIdentifier(indicator);
          if (indicator !== config.issuer && !server) throw new errors.InvalidTarget('unknown resource indicator');
          // The one hook the provider calls with the request's scope at the authorization endpoint,
          // after the client and its redirect_uri are verified (so errors go back to the client).
          if (BROWSER_ROUTES.has(ctx.oidc.route!)) enforceAuthorizationScopes(ctx, server);
          if (!server) return resourceServerInfo(config, client);
          if (ctx.oidc.route === 'token' && missesRequiredDpop(server, ctx.get('DPoP') !== '')) {
            throw new errors.InvalidDpopProof(`a DPoP proof is required for resource ${server.identifier} (it is registered with dpop_required)`);
          }
          return registeredResourceServerInfo(config, client, server);
        },
      },
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, caller, token) => {
          const servesAudience = await resourceServers.identifierOf(metadataOf(caller).resource_server_id);
          if (!mayIntrospect({ ...clientFactsOf(caller), servesAudience }, { clientId: token.clientId!, audience: (token as { aud?: string | string[] }).aud }))
            return false;
          // The answer says what the token confers now. The provider builds it (and signs it, RFC 9701)
          // from this token object right after this hook, and never stores it back.
          const inForce = await tokenInForceNow(provider, resourceServers, token);
          if (!inForce) return false;
          token.scope = inForce.scopes.join(' ') || undefined;
          return true;
        },
      },
      // RFC 9701: with Accept: application/token-introspection+jwt the answer is a JWT signed with
      // the current RS256 key (every client's introspection_signed_response_alg is the default).
      jwtIntrospection: { enabled: true },
      revocation: {
        enabled: true,
        // Revoking an access token ends that token alone; the provider would end its grant.
        allowedPolicy: revocationPolicy((caller, token) => mayRevoke(clientFactsOf(caller), { clientId: token.clientId! }), revocationEndsGrant),
      },
    },
    renderError: async (ctx, out) => {
      // A person in a browser gets a page; a client gets RFC 6749 JSON.
      if (BROWSER_ROUTES.has(ctx.oidc?.route ?? '')) return sendErrorPage(ctx, out, config.issuerPath);
      ctx.type = 'application/json';
      ctx.body = out;
    },
  };

  admitJwtTokenQueries();
  const provider = new Provider(config.issuer, configuration);
  seeRequestsAsIssuer(provider, config.issuer);
  checkProviderInternals(provider);
  storeJwtAccessTokens(provider);

  // Keys change phase while the provider runs (src/keys/key-ring.ts): only `current` keys sign.
  const install = (set: KeySet) =>
    installKeys(
      provider,
      set.signing.map((key) => ({ jwk: key.jwk, signs: key.state === 'current' })),
    );
  install(keys.current);
  keys.onChange(install);
  // The one array the ring changes in place: the provider's own contexts sign and verify cookies with it.
  provider.keys = keys.cookieKeys;

  replaceClientSecretComparison(provider, async (client, presented) => {
    // A RateLimitError or the argon2 gate's 503 is no error the provider knows: it reaches the
    // server_error listener (src/oidc/operations.ts), which answers it through the one error model.
    const { method, ...origin } = authenticationOrigin();
    const holder = { facts: clientFactsOf(client), acceptedHashes: metadataOf(client).accepted_secret_hashes ?? [] };
    return authenticator.authenticate(client.clientId, holder, method, presented, origin);
  });
  guardGrantType(provider, 'client_credentials', ['scope', 'resource'], async (ctx) => enforceClientScopes(ctx, await requestedResourceServer(ctx)));
  for (const grantType of SUPPORTED_GRANT_TYPES) wrapGrantType(provider, grantType, requireDpopProof);
  flows.install(provider);
  installStandardErrors(provider);

  if (operations) {
    instrumentProvider(provider, operations);
    // After instrumentProvider: its answer is final before the audit trail reads it.
    verifyUnknownClients(provider, authenticator, operations);
  }
  // Innermost, so that the audit trail and metrics record the refusal.
  refusePublicIntrospection(provider, (client) => mayUseIntrospection(clientFactsOf(client)));
  return provider;
}

/**
 * RFC 9449 §5.2: a client registered with dpop_bound_access_tokens gets no token without a DPoP
 * proof. oidc-provider refuses it too, as an unexplained invalid_grant; the client is told why.
 */
async function requireDpopProof(ctx: KoaContextWithOIDC, grant: () => Promise<void>): Promise<void> {
  if (ctx.oidc.client && metadataOf(ctx.oidc.client).dpop_bound_access_tokens && !ctx.get('DPoP')) {
    throw new errors.InvalidDpopProof('a DPoP proof is required for this client (it is registered with dpop_bound_access_tokens)');
  }
  await grant();
}

/** RFC 9068 §2.2.1: auth_time, from the code or refresh token the access token is issued for. */
function withAuthTime(ctx: KoaContextWithOIDC | undefined, payload: Record<string, unknown>): void {
  const entities = ctx?.oidc?.entities as { AuthorizationCode?: { authTime?: number }; RefreshToken?: { authTime?: number } } | undefined;
  const authTime = entities?.AuthorizationCode?.authTime ?? entities?.RefreshToken?.authTime;
  if (authTime !== undefined) payload.auth_time = authTime;
}
