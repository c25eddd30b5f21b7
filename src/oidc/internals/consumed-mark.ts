// Hides a code's or refresh token's consumed mark from the token endpoint's read, so a second
// presentation reaches the provider's checks (client, PKCE, DPoP binding) and then consume(),
// where Tollgate decides between a grace-period retry and reuse (src/oidc/refresh-rotation.ts).
import type Provider from 'oidc-provider';
import { ONE_TIME_MODELS, oneTimeModel, type OneTimeModel } from './one-time-tokens.js';
import { expectShape, isFunction } from './shape.js';

export function checkConsumedMark(provider: Provider): void {
  for (const name of ONE_TIME_MODELS) {
    const model = oneTimeModel(provider, name) as Partial<OneTimeModel> | undefined;
    expectShape(isFunction(model?.find), `${name}.find not found`);
    // The grant handlers test this payload property: dropping it is what lets a presentation through.
    expectShape(Array.isArray(model?.IN_PAYLOAD) && model.IN_PAYLOAD.includes('consumed'), `${name} payload has no consumed mark`);
  }
}

/** AuthorizationCode.find and RefreshToken.find drop the consumed mark while `hide()` says so. */
export function hideConsumedMark(provider: Provider, hide: () => boolean): void {
  checkConsumedMark(provider);
  for (const name of ONE_TIME_MODELS) {
    const model = oneTimeModel(provider, name);
    const find = model.find.bind(model);
    model.find = async (value, options) => {
      const found = await find(value, options);
      if (found && found.consumed !== undefined && hide()) delete found.consumed;
      return found;
    };
  }
}
