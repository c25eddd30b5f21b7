// POST /token without oidc-provider's request pipeline for the request services make all day:
// client_credentials, from a client whose secret was verified before, with nothing unusual about
// it, answered by the lane (src/tokens/lane.ts). The token is minted by the provider's own model (src/oidc/client-credentials.ts), so it is
// the token the provider would have issued. Anything else (first contact, DPoP, a resource or any
// other parameter, a scope the client may not have, client_secret_post, CORS) goes to the
// provider untouched, and every error answer stays the provider's own.
import type { Client } from '../db/database.js';
import type { ClientCredentialsMinter } from '../oidc/client-credentials.js';
import { recordIssuance, type ProviderOperations } from '../oidc/operations.js';
import type { LaneRoute } from './lane.js';

/** RFC 6749 §3.3 scope tokens, space-separated, as src/oidc/scopes.ts accepts them. */
const SCOPE_SYNTAX = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

export interface IssuanceRouteDeps {
  mint: ClientCredentialsMinter;
  operations: Pick<ProviderOperations, 'audit' | 'metrics'>;
}

/** The issuance route of the lane (src/tokens/lane.ts). */
export function issuanceRoute({ mint, operations }: IssuanceRouteDeps): LaneRoute {
  return {
    endpoint: 'token',
    answeredAs: 'issuance',
    headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'DPoP-Nonce,WWW-Authenticate', Vary: 'Origin' },
    // RFC 9449 §5.2: a client registered for DPoP-bound tokens must be refused without a proof.
    accepts: (req, caller) => !req.headers.dpop && !caller.dpopBoundAccessTokens && caller.grantTypes.includes('client_credentials'),
    async plan(params, caller) {
      if (params.grant_type !== 'client_credentials' || !Object.keys(params).every((name) => name === 'grant_type' || name === 'scope')) return undefined;
      const scope = grantedScope(caller, params.scope);
      if (scope === false) return undefined;
      return async (request) => {
        const token = await mint(caller, scope);
        if (!token) return undefined;
        // The provider's token response, member for member (RFC 6749 §5.1).
        const body = { access_token: token.value, expires_in: token.expiresIn, scope: token.scope, token_type: 'Bearer' };
        recordIssuance(operations, request, { grantType: 'client_credentials', caller: caller.id, token: token.entity, body });
        return JSON.stringify(body);
      };
    },
  };
}

/**
 * The scope the provider would grant: the client's default scopes when none is asked for, else
 * the requested ones when all are on the client's allow-list. `false` for anything the provider
 * must answer (an error, a repeated scope or parameter).
 */
function grantedScope(client: Client, requested: string | string[] | undefined): string | undefined | false {
  if (requested === undefined) return client.defaultScopes.join(' ') || undefined;
  if (typeof requested !== 'string' || !SCOPE_SYNTAX.test(requested)) return false;
  const scopes = requested.split(' ');
  if (new Set(scopes).size !== scopes.length || !scopes.every((scope) => client.scopes.includes(scope))) return false;
  return requested;
}
