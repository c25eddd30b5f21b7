// What every patch of oidc-provider's internals stands on: the version they were written against,
// and the one error a patch raises when the installed provider no longer has the shape it patches.
import { createRequire } from 'node:module';

/** The oidc-provider release the patches in this folder were written and checked against (package.json pins it). */
export const SUPPORTED_OIDC_PROVIDER = '9.13.3';

const installed = (createRequire(import.meta.url)('oidc-provider/package.json') as { version: string }).version;

/** Start-up fails with this one line rather than a patch changing the provider's behaviour silently. */
export class ProviderShapeError extends Error {
  constructor(what: string) {
    super(`oidc-provider ${installed} internals changed: ${what}; Tollgate supports oidc-provider ${SUPPORTED_OIDC_PROVIDER}`);
    this.name = 'ProviderShapeError';
  }
}

/** Throws ProviderShapeError naming `what` (e.g. "grantTypeHandlers map not found") unless `holds`. */
export function expectShape(holds: boolean, what: string): asserts holds {
  if (!holds) throw new ProviderShapeError(what);
}

export const isFunction = (value: unknown): value is (...args: never[]) => unknown => typeof value === 'function';
