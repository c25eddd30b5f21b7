import type { Context, Next } from 'koa';
import { isAdminPath } from '../admin/routes.js';
import type { ClientEndpoint } from '../http/endpoints.js';
import { addressKey, type RateLimits } from './limits.js';

/** An endpoint whose requests authenticate clients, each client with a request budget (src/http/endpoints.ts). */
export type LimitedEndpoint = ClientEndpoint;

/**
 * An authenticated client's request budget of an endpoint. Only the requests it authenticated count,
 * so nobody spends it by naming the client; the request pipeline counts every request against the
 * address's budget, before anything is read.
 */
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
