// The one door to oidc-provider's internals: every patch of what its public API does not offer
// lives in this folder, one file per patch, each with a check of the shape it patches. All checks
// run when the provider is created, before any patch is applied, so an upgrade that moved
// something fails start-up with one line instead of changing behaviour.
import type Provider from 'oidc-provider';
import { checkClientCredentialsModel } from './client-credentials-model.js';
import { checkClientSecretComparison } from './client-secret-comparison.js';
import { checkConsumedMark } from './consumed-mark.js';
import { checkReplayDetection } from './dpop-replay.js';
import { checkGrantHandlers } from './grant-handlers.js';
import { checkKeystore } from './keystore.js';
import { checkJwtAccessTokens } from './jwt-access-tokens.js';
import { checkTokenConsumption } from './token-consumption.js';
import { checkIntrospectionReadOnly } from './public-introspection.js';
import { checkRevocationPolicy } from './revocation-policy.js';
import { checkServerErrors } from './server-errors.js';
import { checkStandardErrors } from './standard-errors.js';

const CHECKS: readonly ((provider: Provider) => void)[] = [
  checkGrantHandlers,
  checkClientSecretComparison,
  checkConsumedMark,
  checkTokenConsumption,
  checkReplayDetection,
  checkClientCredentialsModel,
  checkKeystore,
  checkJwtAccessTokens,
  checkStandardErrors,
  checkServerErrors,
  checkIntrospectionReadOnly,
  checkRevocationPolicy,
];

/** Throws ProviderShapeError (one line) at the first patched internal that is not as expected. */
export function checkProviderInternals(provider: Provider): void {
  for (const check of CHECKS) check(provider);
}

export { newClientCredentials, type ModelResourceServer } from './client-credentials-model.js';
export { admitJwtTokenQueries, JWT_PAYLOAD_MARK, storeJwtAccessTokens } from './jwt-access-tokens.js';
export { replaceClientSecretComparison } from './client-secret-comparison.js';
export { hideConsumedMark } from './consumed-mark.js';
export { replaceReplayDetection } from './dpop-replay.js';
export { guardGrantType, wrapGrantType } from './grant-handlers.js';
export { installKeys, type PhasedKey } from './keystore.js';
export { refusePublicIntrospection } from './public-introspection.js';
export { revocationPolicy } from './revocation-policy.js';
export { replaceServerErrors } from './server-errors.js';
export { ProviderShapeError, SUPPORTED_OIDC_PROVIDER } from './shape.js';
export { installStandardErrors } from './standard-errors.js';
export { replaceConsumption, type OneTimeToken } from './token-consumption.js';
export { afterUncomparedRefusals } from './unknown-clients.js';
