import type Provider from 'oidc-provider';
import type { ResourceServerService } from '../resource-servers/service.js';
import { audiences, namesResourceServer, tokenInForce } from '../tokens/policy.js';
import { clientFactsOf } from './client-metadata.js';
import type { CachedToken } from '../cache/token-cache.js';

/** Where the resource servers a token may be for are read (each instance's copy in memory). */
export type ResourceServers = Pick<ResourceServerService, 'all'>;

/** A token as the provider finds it, as far as the policy asks. */
interface FoundToken {
  clientId?: string;
  scope?: string;
  aud?: string | string[];
}

/**
 * What a token the provider found confers now (tokenInForce in src/tokens/policy.ts): its client as
 * the provider finds it (active only, from the client cache) and the resource servers as they are,
 * read only for a token that names one (while the bus is down, reading them is a query).
 */
export async function tokenInForceNow(provider: Provider, resourceServers: ResourceServers, token: FoundToken): Promise<{ scopes: string[] } | undefined> {
  const facts = { clientId: token.clientId!, audience: token.aud, scope: token.scope };
  const [client, servers] = await Promise.all([
    token.clientId === undefined ? undefined : provider.Client.find(token.clientId),
    namesResourceServer(facts, provider.issuer) ? resourceServers.all() : [],
  ]);
  return tokenInForce(facts, client && clientFactsOf(client), { issuer: provider.issuer, servers });
}

export interface VerifiedAccessToken {
  clientId: string;
  scopes: Set<string>;
  exp: number;
}

/**
 * The access token behind a bearer value if it is valid, unexpired, issued for the issuer itself
 * (not for a resource server, whose scopes are its own) and its client still active, with the
 * scopes its client may still be granted: the client comes from the client cache, which every
 * instance hears the client's changes through.
 */
export async function verifyAccessToken(provider: Provider, resourceServers: ResourceServers, value: string): Promise<VerifiedAccessToken | undefined> {
  const token = (await provider.ClientCredentials.find(value)) ?? (await provider.AccessToken.find(value));
  if (!token?.isValid || token.isSenderConstrained() || (token as { aud?: unknown }).aud !== provider.issuer) return undefined;
  const inForce = await tokenInForceNow(provider, resourceServers, token);
  if (!inForce) return undefined;
  return { clientId: token.clientId!, scopes: new Set(inForce.scopes), exp: token.exp! };
}

/**
 * The user an access token of the authorization code flow was issued for, and its client. The
 * token is destroyed: whoever redeems it (the web console, at sign-in) needed only to learn who
 * signed in, and keeps no token.
 */
export async function redeemUserAccessToken(provider: Provider, value: string): Promise<{ clientId: string; accountId: string } | undefined> {
  const token = await provider.AccessToken.find(value);
  if (!token?.isValid || !token.accountId || !token.clientId) return undefined;
  await token.destroy();
  return { clientId: token.clientId, accountId: token.accountId };
}

/**
 * What the gateway check remembers of a live access token (src/cache/token-cache.ts): found as
 * introspection finds it (valid, its grant live and its own, its client active), with the scope it
 * confers now, or undefined.
 */
export async function findActiveAccessToken(provider: Provider, resourceServers: ResourceServers, value: string): Promise<CachedToken | undefined> {
  const token = (await provider.ClientCredentials.find(value)) ?? (await provider.AccessToken.find(value));
  if (!token?.isValid || !token.clientId) return undefined;
  const { accountId, grantId } = token as { accountId?: string; grantId?: string };
  if (grantId) {
    const grant = await provider.Grant.find(grantId, { ignoreExpiration: true });
    if (!grant || grant.isExpired || grant.clientId !== token.clientId || grant.accountId !== accountId) return undefined;
  }
  const { aud, jkt } = token as { aud?: string | string[]; jkt?: string };
  const inForce = await tokenInForceNow(provider, resourceServers, { clientId: token.clientId, scope: token.scope, aud });
  if (!inForce) return undefined;
  return {
    clientId: token.clientId,
    // As introspection says it: a client_credentials token's subject is its client (provider.ts, extraTokenClaims).
    subject: token.kind === 'ClientCredentials' ? token.clientId : accountId,
    tokenType: (token as { tokenType?: string }).tokenType ?? 'Bearer',
    grantId,
    expiresAt: token.exp! * 1000,
    scope: inForce.scopes.join(' '),
    audience: audiences(aud),
    jkt,
  };
}
