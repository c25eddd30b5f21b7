// POST /revoke for services: a caller authenticated with client_secret_basic revoking one of its
// client_credentials tokens, or a value that is no token at all, answered without oidc-provider's
// request pipeline. The token is destroyed through the provider's own model, so every instance's
// caches hear of it before the answer. A user's token (whose grant may end with it) and anything
// unusual are the provider's to revoke.
import { REVOCATION_CORS } from '../http/answers.js';
import type { FormHandler, FormRequest } from '../http/pipeline.js';
import type { IssuedToken } from '../oidc/issued-tokens.js';
import { recordRevocation } from '../oidc/operations.js';
import { authenticateCaller, isTokenQuery, tokenEndpoint, type CallerDeps, type CallerState } from './caller.js';
import { mayRevoke } from './policy.js';
import { handlerOf, PROVIDERS, type Outcome } from './steps.js';

/** Its 200: an empty body, as Koa sends an empty string (RFC 7009 §2.2 defines no content). */
const REVOKED = { body: '', headers: { ...REVOCATION_CORS, 'Content-Type': 'text/plain; charset=utf-8' } };

export interface RevocationHandlerDeps extends CallerDeps {
  findToken(value: string): Promise<IssuedToken | undefined>;
}

interface Revocation extends CallerState<RevocationHandlerDeps> {
  /** The token named, if it exists. */
  token: IssuedToken | undefined;
}

/** One opaque token and at most one hint. */
function readTokenQuery({ request }: Revocation): Outcome {
  if (!isTokenQuery(request.form)) return PROVIDERS;
}

/** The token named; a user's token (whose grant may end with it) is the provider's to revoke. */
async function findToken(state: Revocation): Promise<Outcome> {
  state.token = await state.deps.findToken(state.request.form.token as string);
  if (state.token && state.token.kind !== 'ClientCredentials') return PROVIDERS;
}

/** RFC 7009 §2.1: only the client the token was issued to may revoke it; anyone else is told nothing. */
function revokeIfAllowed({ caller, token }: Revocation): Outcome | Promise<Outcome> {
  if (token && mayRevoke(caller!, token)) return token.destroy().then(goOn);
}

const goOn = (): Outcome => undefined;

/** RFC 7009 §2.2: 200 whether the token existed, was someone else's or is now gone; the audit trail tells them apart. */
function answerRevoked({ request, deps, caller, token }: Revocation): Outcome {
  recordRevocation(deps.operations, request.origin, { caller: caller!.id, token });
  return REVOKED;
}

const STEPS = [readTokenQuery, authenticateCaller, findToken, revokeIfAllowed, answerRevoked];

export function revocationHandler(deps: RevocationHandlerDeps): FormHandler {
  const endpointDeps = { ...deps, endpoint: tokenEndpoint('revoke', REVOCATION_CORS, deps.issuer) };
  return handlerOf<Revocation>(STEPS, (request: FormRequest) => ({ request, deps: endpointDeps, caller: undefined, token: undefined }));
}
