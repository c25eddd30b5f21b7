// POST /revoke for services: a caller authenticated with client_secret_basic revoking one of its
// client_credentials tokens, or a value that is no token at all, answered without oidc-provider's
// request pipeline. The token is destroyed through the provider's own model, so every instance's
// caches hear of it before the answer. A user's token (whose grant may end with it) and anything
// unusual are the provider's to revoke.
import type { FormHandler } from '../http/pipeline.js';
import type { IssuedToken } from '../oidc/issued-tokens.js';
import { recordRevocation } from '../oidc/operations.js';
import { authenticateCaller, isTokenQuery, refuseCaller, type CallerDeps } from './caller.js';
import { mayRevoke } from './policy.js';

/** The headers of the provider's revocation answers to a request without Origin. */
const HEADERS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'WWW-Authenticate', Vary: 'Origin' };
/** Its 200: an empty body, as Koa sends an empty string (RFC 7009 §2.2 defines no content). */
const REVOKED = { body: '', headers: { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } };

export interface RevocationHandlerDeps extends CallerDeps {
  findToken(value: string): Promise<IssuedToken | undefined>;
}

export function revocationHandler(deps: RevocationHandlerDeps): FormHandler {
  const { operations } = deps;
  return async function revoke(request) {
    const { form, origin } = request;
    if (!isTokenQuery(form)) return undefined;
    const caller = await authenticateCaller(request, deps, 'revoke');
    if (caller && 'refused' in caller) return refuseCaller(request, deps, 'revoke', HEADERS, caller);
    if (!caller) return undefined;
    const token = await deps.findToken(form.token);
    if (token && token.kind !== 'ClientCredentials') return undefined;
    // RFC 7009 §2.2: 200 whether the token existed, was someone else's (§2.1) or is now gone.
    if (token && mayRevoke(caller, token)) await token.destroy();
    recordRevocation(operations, origin, { caller: caller.id, token });
    return REVOKED;
  };
}
