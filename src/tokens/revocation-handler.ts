// POST /revoke for services: a caller authenticated with client_secret_basic revoking one of its
// client_credentials tokens, or a value that is no token at all, answered without oidc-provider's
// request pipeline. The caller's own token is deleted by one conditional statement, and every
// instance's caches hear of it before the answer, as when the provider's model destroys it. A
// user's token (whose grant may end with it) and anything unusual are the provider's to revoke.
import { REVOCATION_CORS } from '../http/answers.js';
import type { FormHandler, FormRequest } from '../http/pipeline.js';
import type { IssuedToken } from '../oidc/issued-tokens.js';
import { recordRevocation, type TokenEntity } from '../oidc/operations.js';
import { authenticateCaller, isTokenQuery, tokenEndpoint, type CallerDeps, type CallerState } from './caller.js';
import { handlerOf, PROVIDERS, type Outcome } from './steps.js';

/** Its 200: an empty body, as Koa sends an empty string (RFC 7009 §2.2 defines no content). */
const REVOKED = { body: '', headers: { ...REVOCATION_CORS, 'Content-Type': 'text/plain; charset=utf-8' } };

export interface RevocationHandlerDeps extends CallerDeps {
  /**
   * RFC 7009 §2.1, only the client a token was issued to may revoke it (policy.ts's `mayRevoke`,
   * applied by the statement): deletes the caller's own live client_credentials token with this
   * value, and tells every instance's caches; the token revoked, or undefined if there was none.
   */
  revokeOwn(value: string, clientId: string): Promise<TokenEntity | undefined>;
  findToken(value: string): Promise<IssuedToken | undefined>;
}

interface Revocation extends CallerState<RevocationHandlerDeps> {
  /** The token named, if it exists. */
  token: TokenEntity | undefined;
}

/** One opaque token and at most one hint. */
function readTokenQuery({ request }: Revocation): Outcome {
  if (!isTokenQuery(request.form)) return PROVIDERS;
}

/** The caller's own client_credentials token, revoked in one statement (a look-up and a delete). */
function revokeOwnToken(state: Revocation): Promise<Outcome> {
  return state.deps.revokeOwn(state.request.form.token as string, state.caller!.id).then((token) => {
    state.token = token;
    return undefined;
  });
}

/**
 * Any other token named: a user's token (whose grant may end with it) is the provider's to revoke;
 * another client's is left, and the caller told nothing. The caller's own token cannot appear
 * here after the statement missed it: issuance answers only once the token's row is committed.
 */
async function findOtherToken(state: Revocation): Promise<Outcome> {
  if (state.token) return;
  const token = await state.deps.findToken(state.request.form.token as string);
  if (token && token.kind !== 'ClientCredentials') return PROVIDERS;
  state.token = token;
}

/** RFC 7009 §2.2: 200 whether the token existed, was someone else's or is now gone; the audit trail tells them apart. */
function answerRevoked({ request, deps, caller, token }: Revocation): Outcome {
  recordRevocation(deps.operations, request.origin, { caller: caller!.id, token });
  return REVOKED;
}

const STEPS = [readTokenQuery, authenticateCaller, revokeOwnToken, findOtherToken, answerRevoked];

export function revocationHandler(deps: RevocationHandlerDeps): FormHandler {
  const endpointDeps = { ...deps, endpoint: tokenEndpoint('revoke', REVOCATION_CORS, deps.issuer) };
  return handlerOf<Revocation>(STEPS, (request: FormRequest) => ({ request, deps: endpointDeps, caller: undefined, token: undefined }));
}
