import type { Context, Next } from 'koa';
import type { RateLimits } from './limits.js';

export type LimitedEndpoint = 'token' | 'introspect' | 'revoke';

/**
 * A token endpoint request's budgets (the request pipeline counts every one): the address's failed
 * authentications and requests, then the client's when it is known from the Basic header. A client
 * that authenticates in the body is counted by the provider, just before its secret is checked
 * (src/oidc/operations.ts). Throws RateLimitError past any of them.
 */
export async function limitEndpointRequest(limits: RateLimits, endpoint: LimitedEndpoint, ip: string, clientId: string | undefined): Promise<void> {
  await limits.check('client_auth_failures_ip', ip);
  await limits.consume(`${endpoint}_ip`, ip);
  if (clientId) await beforeClientAuthentication(limits, endpoint, clientId);
}

/** The per-client budget of an endpoint, and the client's failed-authentication budget. */
export async function beforeClientAuthentication(limits: RateLimits, endpoint: LimitedEndpoint, clientId: string): Promise<void> {
  await limits.check('client_auth_failures', clientId);
  await limits.consume(`${endpoint}_client`, clientId);
}

/** The admin API: counted per address before its token is checked, per admin client after. */
export function guardAdmin(limits: RateLimits, requireToken: (ctx: Context, next: Next) => Promise<void>) {
  return async function guardAdmin(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/admin' && !ctx.path.startsWith('/admin/')) return next();
    await limits.consume('admin_ip', ctx.ip);
    await requireToken(ctx, async () => {
      if (typeof ctx.state.adminClientId === 'string') await limits.consume('admin_client', ctx.state.adminClientId);
      await next();
    });
  };
}
