// POST /token for the request services make all day: client_credentials with client_secret_basic,
// for the issuer or one registered resource server (RFC 8707), answered without oidc-provider's
// request pipeline, which is most of an issuance's cost. The decisions are the policy's
// (src/tokens/policy.ts), the token is the provider's own, minted by its model
// (src/oidc/client-credentials-minter.ts), opaque or a JWT as the resource server says. Anything
// else (another grant, DPoP, an unknown or repeated resource, an unknown client, CORS) is the
// provider's to answer.
import type { ResourceServer } from '../db/database.js';
import { errorAnswer, TOKEN_CORS } from '../http/answers.js';
import { HttpError } from '../http/errors.js';
import type { FormHandler, FormRequest } from '../http/pipeline.js';
import type { ClientCredentialsMinter, MintedToken } from '../oidc/client-credentials-minter.js';
import { recordFailure, recordIssuance } from '../oidc/operations.js';
import type { ResourceServerService } from '../resource-servers/service.js';
import { authenticateCaller, single, tokenEndpoint, type CallerDeps, type CallerState } from './caller.js';
import { grantResourceScope, grantScope, targetResource } from './policy.js';
import { handlerOf, PROVIDERS, type Outcome } from './steps.js';

export interface IssuanceHandlerDeps extends CallerDeps {
  mint: ClientCredentialsMinter;
  /** DEFAULT_RESOURCE: a request without `resource` may be for it, not the issuer. */
  defaultResource?: string;
  resourceServers: ResourceServerService;
}

interface Issuance extends CallerState<IssuanceHandlerDeps> {
  /** The registered resource server the token is for; none for the issuer. */
  server: ResourceServer | undefined;
  /** The scope granted (none: no scope). */
  granted: string | undefined;
  token: MintedToken | undefined;
}

const PARAMETERS = new Set(['grant_type', 'scope', 'resource']);

/** A client_credentials request without DPoP, with nothing but its own parameters, each once. */
function readClientCredentialsRequest({ request: { form, headers } }: Issuance): Outcome {
  if (form.grant_type !== 'client_credentials' || headers.dpop !== undefined) return PROVIDERS;
  if (!Object.keys(form).every((name) => PARAMETERS.has(name)) || (form.scope !== undefined && !single(form.scope))) return PROVIDERS;
}

/** RFC 8707: the issuer, or a registered resource server; several, or an unknown one, are the provider's invalid_target. */
function findResourceServer(state: Issuance): Outcome | Promise<Outcome> {
  const { defaultResource, issuer } = state.deps;
  const target = targetResource(state.request.form, defaultResource, issuer);
  if (!single(target as string | string[] | undefined)) return PROVIDERS;
  // The issuer, the usual target, is known without waiting.
  if (target !== issuer) return findRegisteredServer(state, target as string);
}

async function findRegisteredServer(state: Issuance, identifier: string): Promise<Outcome> {
  state.server = await state.deps.resourceServers.findByIdentifier(identifier);
  // A server that requires DPoP (RFC 9449): the provider's error.
  if (!state.server || state.server.dpopRequired) return PROVIDERS;
  return undefined;
}

/** A grant type the client lacks, and a client that must use DPoP (RFC 9449 §5.2): the provider's errors. */
function checkClientMayUseGrant({ caller }: Issuance): Outcome {
  if (!caller?.grantTypes.includes('client_credentials') || caller.dpopBoundAccessTokens) return PROVIDERS;
}

/** The scope the policy grants, or its invalid_scope (RFC 6749 §5.2), recorded as a failed request. */
function grantRequestedScope(state: Issuance): Outcome {
  const { request, deps, server } = state;
  const caller = state.caller!;
  const decision = server ? grantResourceScope(caller, server, request.form.scope) : grantScope(caller, request.form.scope);
  if (!('refused' in decision)) {
    state.granted = decision.granted;
    return;
  }
  recordFailure(deps.operations, request.origin, {
    endpoint: 'token',
    error: 'invalid_scope',
    status: 400,
    caller: caller.id,
    grantType: 'client_credentials',
    authenticated: true,
  });
  return errorAnswer(new HttpError(400, 'invalid_scope', decision.description, { scope: decision.refused }), deps.endpoint.headers);
}

/** The provider's own token, minted by its model; a client it does not know is its to answer. */
async function mintToken(state: Issuance): Promise<Outcome> {
  state.token = await state.deps.mint(state.caller!, state.granted, state.server);
  if (!state.token) return PROVIDERS;
}

/** The provider's token response, member for member (RFC 6749 §5.1), recorded as an issuance. */
function answerToken({ request, deps, caller, token }: Issuance): Outcome {
  const body = { access_token: token!.value, expires_in: token!.expiresIn, scope: token!.scope, token_type: 'Bearer' };
  recordIssuance(deps.operations, request.origin, { grantType: 'client_credentials', caller: caller!.id, token: token!.entity, body });
  return { body: JSON.stringify(body), headers: deps.endpoint.headers };
}

const STEPS = [readClientCredentialsRequest, findResourceServer, authenticateCaller, checkClientMayUseGrant, grantRequestedScope, mintToken, answerToken];

export function issuanceHandler(deps: IssuanceHandlerDeps): FormHandler {
  const endpointDeps = { ...deps, endpoint: tokenEndpoint('token', TOKEN_CORS, deps.issuer) };
  return handlerOf<Issuance>(STEPS, (request: FormRequest) => ({
    request,
    deps: endpointDeps,
    caller: undefined,
    server: undefined,
    granted: undefined,
    token: undefined,
  }));
}
