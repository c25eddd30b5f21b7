// What every patch of oidc-provider's internals stands on: the version they were written against,
// and the one error a patch raises when the installed provider no longer has the shape it patches.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The oidc-provider release the patches in this folder were written and checked against (package.json pins it). */
export const SUPPORTED_OIDC_PROVIDER = '9.13.3';

const load = createRequire(import.meta.url);
const installed = (load('oidc-provider/package.json') as { version: string }).version;

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

// The provider's private state, by way of an internal module without type declarations. A module
// that moved is a changed shape like any other: the check using it says so, not a failed import.
// @ts-expect-error: an internal module without type declarations.
const weakCache = (await import('oidc-provider/lib/helpers/weak_cache.js').catch(() => undefined)) as
  | { default?: (provider: object) => Record<string, unknown> | undefined }
  | undefined;

/** What oidc-provider keeps of a provider privately (its grant handlers, keystore, JWKS), or undefined if it cannot be reached. */
export function privateState(provider: object): Record<string, unknown> | undefined {
  const instance = weakCache?.default;
  return typeof instance === 'function' ? instance(provider) : undefined;
}

export const isFunction = (value: unknown): value is (...args: never[]) => unknown => typeof value === 'function';

/**
 * The text of one of oidc-provider's own modules (`lib/actions/token.js`), or '' if it moved: for
 * a patch whose premise is what the provider does there (a message it sends, an event it emits).
 */
export function providerSource(path: string): string {
  try {
    return readFileSync(load.resolve(`oidc-provider/${path}`), 'utf8');
  } catch {
    return '';
  }
}
