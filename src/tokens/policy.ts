// Tollgate's decisions about clients and tokens, as plain functions over plain data: who may
// authenticate how, which scopes a token gets, who may see or revoke a token, how long an access
// token lives. oidc-provider's hooks (src/oidc/) and Tollgate's own token handlers (src/tokens/)
// both ask here, so the two can never decide differently.
import { MAX_ACCESS_TOKEN_TTL } from '../config/config.js';

/** What the policy needs to know about a client, from its registration. */
export interface ClientFacts {
  id: string;
  /** The scopes it may be granted (its allow-list). */
  scopes: readonly string[];
  /** The scopes it gets when a request names none. */
  defaultScopes: readonly string[];
  /** Its registered token_endpoint_auth_method (RFC 7591 §2). */
  tokenEndpointAuthMethod: string;
  /** A resource server may introspect any token. */
  resourceServer: boolean;
  /** Its own access-token lifetime in seconds, if it has one. */
  accessTokenTtl?: number | null;
}

/** What the policy needs to know about a token. */
export interface TokenFacts {
  /** The client it was issued to. */
  clientId: string;
  /** Its audience (`aud`): the issuer, or a resource server's identifier. */
  audience?: string | readonly string[];
}

/** What the policy needs to know about a resource server (an API tokens are issued for, RFC 8707). */
export interface ResourceServerFacts {
  /** The `resource` clients name, and its tokens' `aud`. */
  identifier: string;
  /** The scopes it defines. */
  scopes: readonly string[];
  /** Its tokens' lifetime in seconds, if it sets one. */
  accessTokenTtl?: number | null;
  /** RFC 9449: its tokens are issued only with a DPoP proof. */
  dpopRequired: boolean;
}

/** An introspecting client as the policy sees it: its registration, and the resource server it acts for. */
export type IntrospectionCaller = Pick<ClientFacts, 'id' | 'resourceServer' | 'tokenEndpointAuthMethod'> & {
  /** The identifier of the resource server the client is linked to, if any. */
  servesAudience?: string;
};

/**
 * RFC 7591 §2: a client authenticates at the token, introspection and revocation endpoints with
 * the one method it registered; client_secret_basic and client_secret_post are not interchangeable.
 */
export function mayAuthenticateWith(client: Pick<ClientFacts, 'tokenEndpointAuthMethod'>, method: string): boolean {
  return client.tokenEndpointAuthMethod === method;
}

/** RFC 6749 §3.3: space-separated scope tokens of printable ASCII, without `"` and `\`. */
const SCOPE_SYNTAX = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

/** A grant, or a refusal naming the scope refused (none when the value is not scope syntax at all). */
export type ScopeDecision = { granted: string | undefined } | { refused: string | undefined; description: string };

/**
 * The scope a token request gets: the client's default scopes when it names none, else exactly
 * the requested ones when every one is on the client's allow-list. Deny by default: a client with
 * an empty allow-list gets scope-less tokens only. `protocolScopes` (openid, offline_access at the
 * authorization endpoint) are allowed besides the allow-list.
 */
export function grantScope(
  client: Pick<ClientFacts, 'scopes' | 'defaultScopes'>,
  requested: unknown,
  protocolScopes: ReadonlySet<string> = NONE,
): ScopeDecision {
  if (requested === undefined) return { granted: client.defaultScopes.join(' ') || undefined };
  if (typeof requested !== 'string' || !SCOPE_SYNTAX.test(requested)) {
    return { refused: undefined, description: 'scope contains invalid characters' };
  }
  const scopes = new Set(requested.split(' '));
  for (const scope of scopes) {
    if (!client.scopes.includes(scope) && !protocolScopes.has(scope)) return { refused: scope, description: 'requested scope is not allowed for this client' };
  }
  return { granted: [...scopes].join(' ') };
}

const NONE: ReadonlySet<string> = new Set();

/** Scopes of the protocol itself, not of a resource: no client lists them in its allow-list. */
export const PROTOCOL_SCOPES: ReadonlySet<string> = new Set(['openid', 'offline_access']);

/** The resources tokens may be for at this moment: the issuer itself and the registered resource servers. */
export interface ResourcesNow {
  issuer: string;
  servers: readonly Pick<ResourceServerFacts, 'identifier' | 'scopes'>[];
}

/**
 * What a live token confers now rather than when it was issued: its granted scopes that its client
 * may still be granted and that every resource server it is for still defines (protocol scopes
 * aside); nothing (undefined) once its client is gone or disabled or an audience is no longer a
 * resource (its resource server deleted or renamed). Introspection, the gateway check and the admin
 * API's token check all answer with this, so narrowing a client or a resource server narrows the
 * tokens already issued at once, JWTs included (the JWT is unchanged; the answers about it are not).
 */
export function tokenInForce(
  token: TokenFacts & { scope?: string },
  client: Pick<ClientFacts, 'scopes'> | undefined,
  resources: ResourcesNow,
): { scopes: string[] } | undefined {
  if (!client) return undefined;
  const servers: Pick<ResourceServerFacts, 'scopes'>[] = [];
  for (const audience of audiences(token.audience)) {
    if (audience === resources.issuer) continue;
    const server = resources.servers.find((candidate) => candidate.identifier === audience);
    if (!server) return undefined;
    servers.push(server);
  }
  const allowed = (scope: string) => PROTOCOL_SCOPES.has(scope) || (client.scopes.includes(scope) && servers.every((server) => server.scopes.includes(scope)));
  return { scopes: [...new Set((token.scope ?? '').split(' '))].filter((scope) => scope && allowed(scope)) };
}

/** Whether `token` is for a resource server, not only the issuer: only then does tokenInForce read `servers`. */
export function namesResourceServer(token: TokenFacts, issuer: string): boolean {
  return audiences(token.audience).some((audience) => audience !== issuer);
}

/**
 * RFC 7662 §2.1: the introspection endpoint requires authorization, which a public client
 * (token_endpoint_auth_method none) cannot give: it is refused as an unauthenticated caller.
 */
export function mayUseIntrospection(caller: Pick<ClientFacts, 'tokenEndpointAuthMethod'>): boolean {
  return caller.tokenEndpointAuthMethod !== 'none';
}

/**
 * RFC 7662 §2.1: an authenticated client may see its own tokens; a client flagged resource_server
 * may see any; a client linked to a resource server may see the tokens issued for that server.
 */
export function mayIntrospect(caller: IntrospectionCaller, token: TokenFacts): boolean {
  if (!mayUseIntrospection(caller)) return false;
  if (token.clientId === caller.id || caller.resourceServer) return true;
  return caller.servesAudience !== undefined && audiences(token.audience).includes(caller.servesAudience);
}

/** A token's or an answer's `aud`, a string or an array, as a list (anything else is none). */
export function audiences(aud: unknown): string[] {
  return typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((one): one is string => typeof one === 'string') : [];
}

/** RFC 7009 §2.1: only the client a token was issued to may revoke it (a public client its own tokens too). */
export function mayRevoke(caller: Pick<ClientFacts, 'id'>, token: TokenFacts): boolean {
  return token.clientId === caller.id;
}

/**
 * RFC 7009 §2.1 leaves it to the server: revoking a refresh token ends its grant (the refresh token
 * and every access token issued with it); revoking an access token ends that token alone.
 */
export function revocationEndsGrant(token: { kind: string }): boolean {
  return token.kind === 'RefreshToken';
}

/** An access token's lifetime in seconds: the client's own or the configured default, never above the hard maximum. */
export function accessTokenLifetime(client: Pick<ClientFacts, 'accessTokenTtl'>, defaultTtl: number): number {
  return Math.min(client.accessTokenTtl ?? defaultTtl, MAX_ACCESS_TOKEN_TTL);
}

/** The issuer's own scopes (its admin API): a request for one is for the issuer, whatever DEFAULT_RESOURCE says. */
export const ISSUER_SCOPES: ReadonlySet<string> = new Set(['admin']);

/**
 * RFC 8707 §2: the resource a token request is for. The one it names; without one, the default
 * resource when there is one, unless the request asks for the issuer's own scope; else the issuer.
 */
export function targetResource(request: { resource?: unknown; scope?: unknown }, defaultResource: string | undefined, issuer: string): unknown {
  if (request.resource !== undefined) return request.resource;
  const scopes = typeof request.scope === 'string' ? request.scope.split(' ') : [];
  if (defaultResource === undefined || scopes.some((scope) => ISSUER_SCOPES.has(scope))) return issuer;
  return defaultResource;
}

/**
 * The scope a token for a resource server gets: as grantScope, within the client's allow-list and
 * the resource server's scopes both. Without a request, the client's default scopes that the
 * resource server defines.
 */
export function grantResourceScope(
  client: Pick<ClientFacts, 'scopes' | 'defaultScopes'>,
  server: Pick<ResourceServerFacts, 'identifier' | 'scopes'>,
  requested: unknown,
  protocolScopes: ReadonlySet<string> = NONE,
): ScopeDecision {
  const defined = (scope: string) => server.scopes.includes(scope);
  const decision = grantScope({ scopes: client.scopes.filter(defined), defaultScopes: client.defaultScopes.filter(defined) }, requested, protocolScopes);
  if ('refused' in decision && decision.refused !== undefined && client.scopes.includes(decision.refused)) {
    return { refused: decision.refused, description: `requested scope is not defined by resource server ${server.identifier}` };
  }
  return decision;
}

/**
 * The lifetime of a token for a resource server: its own (or the configured default), which the
 * client's own access_token_ttl can only shorten, never above the hard maximum.
 */
export function resourceTokenLifetime(
  client: Pick<ClientFacts, 'accessTokenTtl'>,
  server: Pick<ResourceServerFacts, 'accessTokenTtl'>,
  defaultTtl: number,
): number {
  return Math.min(server.accessTokenTtl ?? defaultTtl, client.accessTokenTtl ?? MAX_ACCESS_TOKEN_TTL, MAX_ACCESS_TOKEN_TTL);
}

/** RFC 9449: whether a token request for the resource server must be refused for lack of a DPoP proof. */
export function missesRequiredDpop(server: Pick<ResourceServerFacts, 'dpopRequired'>, hasDpopProof: boolean): boolean {
  return server.dpopRequired && !hasDpopProof;
}
