// The one file that reaches into oidc-provider's internals (no public API offers these hooks).
// Checked against oidc-provider 9.13; re-check on upgrades.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
// @ts-expect-error: an internal module without type declarations.
import instance from 'oidc-provider/lib/helpers/weak_cache.js';

type GrantHandler = (ctx: KoaContextWithOIDC) => Promise<void>;

/**
 * Runs `before` ahead of the provider's own handler for `grantType`. oidc-provider lets a client
 * request scopes it does not know of (it only polices its static `scopes`), so Tollgate needs a
 * step in front of the grant to apply its allow-lists.
 */
export function guardGrantType(provider: Provider, grantType: string, parameters: string[], before: (ctx: KoaContextWithOIDC) => void): void {
  const handlers = (instance(provider) as { grantTypeHandlers: Map<string, GrantHandler> }).grantTypeHandlers;
  const original = handlers.get(grantType);
  if (!original) throw new Error(`grant type ${grantType} is not enabled`);
  provider.registerGrantType(grantType, async (ctx: KoaContextWithOIDC) => {
    before(ctx);
    await original(ctx);
  }, parameters);
}

/**
 * Runs `wrapper` around the provider's own handler for `grantType`, keeping the parameters and
 * duplicate rules it registered with: Tollgate's steps before and after a grant (see refresh-rotation.ts).
 */
export function wrapGrantType(provider: Provider, grantType: string, wrapper: (ctx: KoaContextWithOIDC, handler: () => Promise<void>) => Promise<void>): void {
  const handlers = (instance(provider) as { grantTypeHandlers: Map<string, GrantHandler> }).grantTypeHandlers;
  const original = handlers.get(grantType);
  if (!original) throw new Error(`grant type ${grantType} is not enabled`);
  handlers.set(grantType, (ctx) => wrapper(ctx, () => original(ctx)));
}
