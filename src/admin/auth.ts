import type { Context, Next } from 'koa';
import type { VerifiedAccessToken } from '../oidc/access-tokens.js';
import { challenge } from '../http/answers.js';
import { HttpError } from '../http/errors.js';
import { addressKey, type RateLimits } from '../rate-limit/limits.js';
import { isAdminPath } from './routes.js';

export const ADMIN_SCOPE = 'admin';

/**
 * Admits requests that carry a Tollgate access token with scope `admin` (RFC 6750). Failures
 * answer 401 with a WWW-Authenticate challenge, or 403 when the token lacks the scope.
 */
export function requireAdminToken(verify: (token: string) => Promise<VerifiedAccessToken | undefined>) {
  return async function requireAdminToken(ctx: Context, next: Next): Promise<void> {
    const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(ctx.get('authorization'));
    if (!match) throw new HttpError(401, 'invalid_token', 'a Bearer access token with scope admin is required', withChallenge());
    const token = await verify(match[1]!);
    if (!token) throw new HttpError(401, 'invalid_token', 'the access token is invalid, expired or revoked', withChallenge('invalid_token'));
    if (!token.scopes.has(ADMIN_SCOPE))
      throw new HttpError(403, 'insufficient_scope', 'the access token lacks scope admin', withChallenge('insufficient_scope', ADMIN_SCOPE));
    ctx.state.adminActor = token.clientId;
    await next();
  };
}

/** The admin API: counted per address before its token is checked, per admin client after. */
export function guardAdmin(limits: RateLimits, requireToken: (ctx: Context, next: Next) => Promise<void>) {
  return async function guardAdmin(ctx: Context, next: Next): Promise<void> {
    if (!isAdminPath(ctx.path)) return next();
    await limits.consume('admin_ip', addressKey(ctx.ip));
    await requireToken(ctx, async () => {
      if (typeof ctx.state.adminActor === 'string') await limits.consume('admin_client', ctx.state.adminActor);
      await next();
    });
  };
}

/** RFC 6750 §3: the admin API's Bearer challenge, with the error when a token was presented. */
function withChallenge(error?: string, scope?: string) {
  return { headers: { 'WWW-Authenticate': challenge('Bearer', { realm: 'tollgate-admin', error, scope }) } };
}
