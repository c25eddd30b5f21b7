// DPoP proof replay detection. The provider's ReplayDetection.unique reads, then writes, so two
// requests with one proof can both pass; Tollgate's replacement inserts atomically.
import type Provider from 'oidc-provider';
import { expectShape, isFunction } from './shape.js';

type Unique = (iss: string, jti: string, exp: number) => Promise<boolean>;

export function checkReplayDetection(provider: Provider): void {
  expectShape(isFunction((provider.ReplayDetection as { unique?: unknown } | undefined)?.unique), 'ReplayDetection.unique not found');
}

/** `unique(iss, jti, exp)` is true the first time a proof (`jti` from `iss`, valid until `exp`) is seen. */
export function replaceReplayDetection(provider: Provider, unique: Unique): void {
  checkReplayDetection(provider);
  (provider.ReplayDetection as unknown as { unique: Unique }).unique = unique;
}
