// JWT access tokens (RFC 9068) that Tollgate can introspect and revoke like opaque ones. oidc-provider
// does neither: it does not store a token of the jwt format, and its introspection and revocation
// endpoints refuse any JWT-shaped value (a step named rejectStructuredTokens). Two patches: a JWT
// access token's payload is stored as an opaque token's would be, under its jti, marked as a JWT's
// (the adapter finds it only from the signed JWT, never from the bare jti, which is no secret); and
// the refusing step leaves the two endpoints' middleware lists, which the provider reads when it is
// constructed (so this runs before).
import type Provider from 'oidc-provider';
import { expectShape, isFunction } from './shape.js';

/** The stored payload's mark: what the provider's opaque format refuses to read back on its own. */
export const JWT_PAYLOAD_MARK = { format: 'jwt' } as const;

type Middleware = ((...args: never[]) => unknown) & { name: string };
type Format = { getValueAndPayload?: (provider: Provider, token: unknown) => Promise<{ value: string; payload?: Record<string, unknown> }> };

// Internal modules without type declarations; one that moved is a changed shape, said by the checks.
// @ts-expect-error: an internal module without type declarations.
const opaque = (await import('oidc-provider/lib/models/formats/opaque.js').catch(() => undefined)) as Format | undefined;
// @ts-expect-error: an internal module without type declarations.
const introspection = (await import('oidc-provider/lib/actions/introspection.js').catch(() => undefined)) as { default?: unknown } | undefined;
// @ts-expect-error: an internal module without type declarations.
const revocation = (await import('oidc-provider/lib/actions/revocation.js').catch(() => undefined)) as { default?: unknown } | undefined;

const REFUSING_STEP = 'rejectStructuredTokens';
const TOKEN_MODELS = ['AccessToken', 'ClientCredentials'] as const;

function endpointSteps(): unknown[][] {
  return [introspection?.default, revocation?.default].filter(Array.isArray) as unknown[][];
}

/** Checked before the provider is constructed: the two endpoints' middleware lists, which are spread into its routes then. */
function checkEndpointSteps(): void {
  const steps = endpointSteps();
  expectShape(steps.length === 2 && steps.every((list) => list.every(isFunction)), 'introspection and revocation middleware lists not found');
}

export function checkJwtAccessTokens(provider: Provider): void {
  checkEndpointSteps();
  expectShape(isFunction(opaque?.getValueAndPayload), 'opaque token format not found');
  for (const name of TOKEN_MODELS) {
    const model = provider[name] as unknown as { prototype?: { getValueAndPayload?: unknown } };
    expectShape(isFunction(model?.prototype?.getValueAndPayload), `${name}.prototype.getValueAndPayload not found`);
  }
}

/**
 * Lets JWT values reach /introspect's and /revoke's token lookup (the adapter then verifies them).
 * Call before constructing a provider; removing the step again is a no-op.
 */
export function admitJwtTokenQueries(): void {
  checkEndpointSteps();
  for (const steps of endpointSteps()) {
    const index = steps.findIndex((step) => (step as Middleware).name === REFUSING_STEP);
    if (index !== -1) steps.splice(index, 1);
  }
}

/** Stores every JWT-format access token's payload, as its opaque twin would be stored, with the mark. */
export function storeJwtAccessTokens(provider: Provider): void {
  checkJwtAccessTokens(provider);
  for (const name of TOKEN_MODELS) {
    const prototype = (provider[name] as unknown as { prototype: { getValueAndPayload(): Promise<{ value: string; payload?: unknown }>; format?: string } })
      .prototype;
    const original = prototype.getValueAndPayload;
    prototype.getValueAndPayload = async function getValueAndPayload(this: typeof prototype) {
      const signed = await original.call(this);
      if (this.format !== 'jwt') return signed;
      const { payload } = await opaque!.getValueAndPayload!(provider, this);
      return { value: signed.value, payload: { ...payload, ...JWT_PAYLOAD_MARK } };
    };
  }
}
