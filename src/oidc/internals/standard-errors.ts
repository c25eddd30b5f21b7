// Two of oidc-provider's token endpoint answers, brought in line with RFC 6749 §5.2: a request
// that carries no client authentication at all is invalid_client (401), not invalid_request; a
// grant type the client is not registered for is unauthorized_client. The provider raises both as
// InvalidRequest, so the second is recognised by its message, which the check finds in its source.
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { answerErrorInKoa } from '../../http/answers.js';
import { HttpError } from '../../http/errors.js';
import { expectShape, providerSource } from './shape.js';

/** oidc-provider's message (lib/actions/token.js) for a grant type the client lacks. */
const GRANT_TYPE_NOT_ALLOWED = 'requested grant type is not allowed for this client';

const NO_CLIENT_AUTHENTICATION = new HttpError(401, 'invalid_client', 'client authentication is required');
const GRANT_TYPE_UNAUTHORIZED = new HttpError(400, 'unauthorized_client', GRANT_TYPE_NOT_ALLOWED);

export function checkStandardErrors(): void {
  expectShape(providerSource('lib/actions/token.js').includes(`'${GRANT_TYPE_NOT_ALLOWED}'`), `token endpoint message "${GRANT_TYPE_NOT_ALLOWED}" not found`);
}

/** Provider middleware: rewrites the two answers after the provider gave them. */
export function installStandardErrors(provider: Provider): void {
  checkStandardErrors();
  provider.use(standardErrors);
}

async function standardErrors(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> {
  await next();
  const error = (ctx.body as { error?: unknown } | undefined)?.error;
  if (ctx.status !== 400 || !ctx.oidc || error !== 'invalid_request') return;
  const { params, route } = ctx.oidc;
  // Malformed credentials stay invalid_request.
  if (params && !ctx.oidc.client && ctx.headers.authorization === undefined && params.client_id === undefined && params.client_assertion === undefined) {
    return answerErrorInKoa(ctx, NO_CLIENT_AUTHENTICATION);
  }
  const description = (ctx.body as { error_description?: unknown }).error_description;
  if (route === 'token' && description === GRANT_TYPE_NOT_ALLOWED) answerErrorInKoa(ctx, GRANT_TYPE_UNAUTHORIZED);
}
