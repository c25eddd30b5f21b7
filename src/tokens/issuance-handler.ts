// POST /token for the request services make all day: client_credentials with client_secret_basic,
// for the issuer or one registered resource server (RFC 8707), answered without oidc-provider's
// request pipeline, which is most of an issuance's cost. The decisions are the policy's
// (src/tokens/policy.ts), the token is the provider's own, minted by its model
// (src/oidc/client-credentials-minter.ts), opaque or a JWT as the resource server says. Anything
// else (another grant, DPoP, an unknown or repeated resource, an unknown client, CORS) is the
// provider's to answer.
import { errorBody, HttpError } from '../http/errors.js';
import type { FormHandler } from '../http/pipeline.js';
import type { ClientCredentialsMinter } from '../oidc/client-credentials-minter.js';
import { recordFailure, recordIssuance } from '../oidc/operations.js';
import { authenticateCaller, refuseCaller, single, type CallerDeps } from './caller.js';
import type { ResourceServerService } from '../resource-servers/service.js';
import { grantResourceScope, grantScope, targetResource } from './policy.js';

/** The headers of the provider's token endpoint answers to a request without Origin. */
const HEADERS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'DPoP-Nonce,WWW-Authenticate', Vary: 'Origin' };

export interface IssuanceHandlerDeps extends CallerDeps {
  mint: ClientCredentialsMinter;
  /** DEFAULT_RESOURCE: a request without `resource` may be for it, not the issuer. */
  defaultResource?: string;
  resourceServers: ResourceServerService;
}

const PARAMETERS = new Set(['grant_type', 'scope', 'resource']);

export function issuanceHandler(deps: IssuanceHandlerDeps): FormHandler {
  const { mint, operations } = deps;
  return async function issueClientCredentials(request) {
    const { form, headers, origin } = request;
    if (form.grant_type !== 'client_credentials' || headers.dpop !== undefined) return undefined;
    if (!Object.keys(form).every((name) => PARAMETERS.has(name)) || (form.scope !== undefined && !single(form.scope))) return undefined;
    // RFC 8707: the issuer, or a registered resource server; several, or an unknown one, are the provider's invalid_target.
    const target = targetResource(form, deps.defaultResource, deps.issuer);
    if (!single(target as string | string[] | undefined)) return undefined;
    const server = target === deps.issuer ? undefined : await deps.resourceServers.findByIdentifier(target as string);
    // A server that requires DPoP (RFC 9449): the provider's error.
    if (target !== deps.issuer && (!server || server.dpopRequired)) return undefined;
    const caller = await authenticateCaller(request, deps, 'token');
    if (caller && 'refused' in caller) return refuseCaller(request, deps, 'token', HEADERS, caller);
    // A grant type the client lacks, and a client that must use DPoP (RFC 9449 §5.2): the provider's errors.
    if (!caller?.grantTypes.includes('client_credentials') || caller.dpopBoundAccessTokens) return undefined;
    const decision = server ? grantResourceScope(caller, server, form.scope) : grantScope(caller, form.scope);
    if ('refused' in decision) {
      recordFailure(operations, origin, {
        endpoint: 'token',
        error: 'invalid_scope',
        status: 400,
        caller: caller.id,
        grantType: 'client_credentials',
        authenticated: true,
      });
      const body = JSON.stringify(errorBody(new HttpError(400, 'invalid_scope', decision.description, { scope: decision.refused })));
      return { status: 400, body, headers: HEADERS };
    }
    const token = await mint(caller, decision.granted, server);
    if (!token) return undefined;
    // The provider's token response, member for member (RFC 6749 §5.1).
    const body = { access_token: token.value, expires_in: token.expiresIn, scope: token.scope, token_type: 'Bearer' };
    recordIssuance(operations, origin, { grantType: 'client_credentials', caller: caller.id, token: token.entity, body });
    return { body: JSON.stringify(body), headers: HEADERS };
  };
}
