// Replaces consume() on authorization codes and refresh tokens: the provider's marks a token used
// unconditionally; Tollgate's consumes with one conditional update and decides what a lost race
// or a reuse means (src/oidc/refresh-rotation.ts).
import type Provider from 'oidc-provider';
import { ONE_TIME_MODELS, oneTimeModel, type OneTimeModelName, type OneTimeToken } from './one-time-tokens.js';
import { expectShape, isFunction } from './shape.js';

export type { OneTimeToken } from './one-time-tokens.js';

function checkModel(provider: Provider, name: OneTimeModelName): void {
  expectShape(isFunction(oneTimeModel(provider, name)?.prototype?.consume), `${name}.prototype.consume not found`);
}

export function checkTokenConsumption(provider: Provider): void {
  for (const name of ONE_TIME_MODELS) checkModel(provider, name);
}

/** `consume(token)` runs wherever the provider consumes a token of model `name`. */
export function replaceConsumption(provider: Provider, name: OneTimeModelName, consume: (token: OneTimeToken) => Promise<void>): void {
  checkModel(provider, name);
  oneTimeModel(provider, name).prototype.consume = function (this: OneTimeToken) {
    return consume(this);
  };
}
