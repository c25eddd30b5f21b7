// What authorization codes and refresh tokens look like to the patches that make their use
// one-time and race-free (src/oidc/refresh-rotation.ts): models with a static find, a consume()
// on each token, and a `consumed` mark the grant handlers test.
import type Provider from 'oidc-provider';
import type { StoreAdapter } from '../adapter.js';

export interface OneTimeToken {
  jti: string;
  kind: string;
  grantId?: string;
  clientId?: string;
  accountId?: string;
  consumed?: unknown;
  adapter: StoreAdapter;
  emit(event: string): void;
  destroy(): Promise<void>;
  consume(): Promise<void>;
}

export type OneTimeModelName = 'AuthorizationCode' | 'RefreshToken';
export const ONE_TIME_MODELS: readonly OneTimeModelName[] = ['AuthorizationCode', 'RefreshToken'];

type Finder = (value: string, options?: { ignoreExpiration?: boolean }) => Promise<OneTimeToken | undefined>;
export interface OneTimeModel {
  find: Finder;
  IN_PAYLOAD?: unknown;
  prototype: OneTimeToken;
}

/** The model, typed as the patches see it; undefined members are what the checks look for. */
export function oneTimeModel(provider: Provider, name: OneTimeModelName): OneTimeModel {
  return provider[name] as unknown as OneTimeModel;
}
