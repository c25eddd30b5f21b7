// Steps around the provider's own grant handlers. registerGrantType is public, but it replaces a
// handler: reaching the one it replaces takes the provider's private grantTypeHandlers map.
import type { KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { expectShape, isFunction, privateState } from './shape.js';

type GrantHandler = (ctx: KoaContextWithOIDC) => Promise<void>;

function grantTypeHandlers(provider: Provider): unknown {
  return privateState(provider)?.grantTypeHandlers;
}

export function checkGrantHandlers(provider: Provider): void {
  expectShape(grantTypeHandlers(provider) instanceof Map, 'grantTypeHandlers map not found');
  expectShape(isFunction(provider.registerGrantType), 'provider.registerGrantType not found');
}

function handlerOf(provider: Provider, grantType: string): { handlers: Map<string, GrantHandler>; original: GrantHandler } {
  checkGrantHandlers(provider);
  const handlers = grantTypeHandlers(provider) as Map<string, GrantHandler>;
  const original = handlers.get(grantType);
  if (!original) throw new Error(`grant type ${grantType} is not enabled`);
  expectShape(isFunction(original), `grantTypeHandlers entry for ${grantType} is not a function`);
  return { handlers, original };
}

/**
 * Runs `before` ahead of the provider's own handler for `grantType`, which then accepts `parameters`.
 * oidc-provider lets a client request scopes it does not know of (it only polices its static
 * `scopes`), so Tollgate needs a step in front of the grant to apply its allow-lists.
 */
export function guardGrantType(provider: Provider, grantType: string, parameters: string[], before: (ctx: KoaContextWithOIDC) => void | Promise<void>): void {
  const { original } = handlerOf(provider, grantType);
  provider.registerGrantType(
    grantType,
    async (ctx: KoaContextWithOIDC) => {
      await before(ctx);
      await original(ctx);
    },
    parameters,
  );
}

/**
 * Runs `wrapper` around the provider's own handler for `grantType`, keeping the parameters and
 * duplicate rules it registered with: Tollgate's steps before and after a grant (see refresh-rotation.ts).
 */
export function wrapGrantType(provider: Provider, grantType: string, wrapper: (ctx: KoaContextWithOIDC, handler: () => Promise<void>) => Promise<void>): void {
  const { handlers, original } = handlerOf(provider, grantType);
  handlers.set(grantType, (ctx) => wrapper(ctx, () => original(ctx)));
}
