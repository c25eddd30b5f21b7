import type { Context, Next } from 'koa';
import { basicClientId } from './client-id.js';
import type { RateLimits } from './limits.js';

export type LimitedEndpoint = 'token' | 'introspect' | 'revoke';

/**
 * Per-address and per-client limits on the token, introspection and revocation endpoints, and the
 * per-address budget of failed client authentications (counted from the 401 invalid_client
 * answers, which covers unknown client ids too). A client that authenticates in the body is
 * counted by the provider, just before it checks the secret (src/oidc/operations.ts).
 */
export function limitProviderEndpoints(limits: RateLimits, paths: Record<string, LimitedEndpoint>) {
  return async function limitProviderEndpoints(ctx: Context, next: Next): Promise<void> {
    const endpoint = Object.hasOwn(paths, ctx.path) ? paths[ctx.path] : undefined;
    if (!endpoint || ctx.method !== 'POST') return next();
    // With Basic authentication the client is known before the body is read: it is counted here,
    // which also covers the fast lane's requests that it passes on.
    const clientId = basicClientId(ctx.get('authorization'));
    await limitEndpointRequest(limits, endpoint, ctx.ip, clientId);
    if (clientId) ctx.state.rateLimitedClientId = clientId;
    await next();
    if (ctx.status === 401 && (ctx.body as { error?: unknown } | undefined)?.error === 'invalid_client') {
      await limits.penalize('client_auth_failures_ip', ctx.ip);
    }
  };
}

/**
 * An endpoint request's budgets: the address's failed authentications and requests, then the
 * client's when it is known from the Basic header. Throws RateLimitError past any of them.
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
