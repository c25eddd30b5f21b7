import type { Context, Next } from 'koa';
import { isAdminPath } from '../admin/routes.js';
import { addressKey, type RateLimits } from './limits.js';

export type LimitedEndpoint = 'token' | 'introspect' | 'revoke';

/**
 * A token endpoint request's budget per address, which the request pipeline counts for every
 * request, before anything is read. A client's own budget counts only the requests it
 * authenticated (`limitClientRequest`), so nobody spends it by naming the client.
 */
export async function limitEndpointRequest(limits: RateLimits, endpoint: LimitedEndpoint, ip: string): Promise<void> {
  await limits.consume(`${endpoint}_ip`, addressKey(ip));
}

/** An authenticated client's request budget of an endpoint. */
export async function limitClientRequest(limits: RateLimits, endpoint: LimitedEndpoint, clientId: string): Promise<void> {
  await limits.consume(`${endpoint}_client`, clientId);
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
