// The patches of oidc-provider's internals (src/oidc/internals/) find what they patch on the pinned
// release, and an upgrade that moved any of it fails start-up with one line naming what changed.
import { readFile } from 'node:fs/promises';
import Provider from 'oidc-provider';
// @ts-expect-error: an internal module without type declarations.
import instance from 'oidc-provider/lib/helpers/weak_cache.js';
import { describe, expect, it } from 'vitest';
import { checkProviderInternals, ProviderShapeError, SUPPORTED_OIDC_PROVIDER } from '../../src/oidc/internals/index.js';

const newProvider = () => new Provider('http://127.0.0.1', { features: { clientCredentials: { enabled: true }, dPoP: { enabled: true } } });
const unchanged = (what: string) =>
  `oidc-provider ${SUPPORTED_OIDC_PROVIDER} internals changed: ${what}; Tollgate supports oidc-provider ${SUPPORTED_OIDC_PROVIDER}`;

/** Each way an upgrade could move a patched internal, and the line start-up fails with. */
const BREAKAGES: [string, (provider: Provider) => void][] = [
  ['grantTypeHandlers map not found', (provider) => void delete (instance(provider) as { grantTypeHandlers?: unknown }).grantTypeHandlers],
  [
    'Client.prototype.compareClientSecret not found',
    (provider) => void delete (provider.Client.prototype as { compareClientSecret?: unknown }).compareClientSecret,
  ],
  ['RefreshToken payload has no consumed mark', (provider) => Object.defineProperty(provider.RefreshToken, 'IN_PAYLOAD', { value: ['jti', 'kind'] })],
  ['AuthorizationCode.prototype.consume not found', (provider) => Object.defineProperty(provider.AuthorizationCode.prototype, 'consume', { value: undefined })],
  ['ReplayDetection.unique not found', (provider) => Object.defineProperty(provider.ReplayDetection, 'unique', { value: undefined })],
  ['ClientCredentials model not found', (provider) => Object.defineProperty(provider.ClientCredentials.prototype, 'save', { value: undefined })],
  ['keystore (selectForSign, selectForVerify, clear, add) not found', (provider) => void delete (instance(provider) as { keystore?: unknown }).keystore],
  ['public jwks not found', (provider) => void delete (instance(provider) as { jwks?: unknown }).jwks],
];

describe('provider internals', () => {
  it('are pinned: package.json names the release the patches support, and it is the one installed', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { dependencies: Record<string, string> };
    const installed = JSON.parse(await readFile('node_modules/oidc-provider/package.json', 'utf8')) as { version: string };
    expect(pkg.dependencies['oidc-provider']).toBe(SUPPORTED_OIDC_PROVIDER);
    expect(installed.version).toBe(SUPPORTED_OIDC_PROVIDER);
  });

  it('have the shape every patch expects on the pinned release', () => {
    expect(() => checkProviderInternals(newProvider())).not.toThrow();
  });

  it.each(BREAKAGES)('fail with one line when they changed: %s', (what, breakIt) => {
    const provider = newProvider();
    breakIt(provider);
    let error: unknown;
    try {
      checkProviderInternals(provider);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProviderShapeError);
    expect((error as Error).message).toBe(unchanged(what));
  });

  it('fail with one line when Provider.ctx, where the DPoP patch reads the proof being checked, is gone', () => {
    const ctx = Object.getOwnPropertyDescriptor(Provider, 'ctx')!;
    Object.defineProperty(Provider, 'ctx', { value: undefined, configurable: true });
    try {
      expect(() => checkProviderInternals(newProvider())).toThrow(unchanged('Provider.ctx not found'));
    } finally {
      Object.defineProperty(Provider, 'ctx', ctx);
    }
  });
});
