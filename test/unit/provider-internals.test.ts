// The patches of oidc-provider's internals (src/oidc/internals/) find what they patch on the pinned
// release, and an upgrade that moved any of it fails start-up with one line naming what changed.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';
// @ts-expect-error: an internal module without type declarations.
import instance from 'oidc-provider/lib/helpers/weak_cache.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkProviderInternals,
  ProviderShapeError,
  replaceClientSecretComparison,
  replaceServerErrors,
  SUPPORTED_OIDC_PROVIDER,
} from '../../src/oidc/internals/index.js';

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

/**
 * What the rewrites of the provider's answers (src/oidc/internals/) stand on, asked of a bare
 * provider over HTTP: each fails when a release changes the behaviour a rewrite assumes.
 */
describe('the provider behaviour Tollgate rewrites', () => {
  const servers: { close(): unknown }[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  const clients: Configuration['clients'] = [
    { client_id: 'service', client_secret: 'right', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
    { client_id: 'no-grant', client_secret: 'right', grant_types: ['authorization_code'], redirect_uris: ['https://app.example/cb'] },
    { client_id: 'public', token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], redirect_uris: ['https://app.example/cb'] },
  ];

  async function served(provider: Provider): Promise<string> {
    const server = provider.listen(0);
    servers.push(server);
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const post = async (url: string, form: Record<string, string>, basic?: [string, string]) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (basic) headers.authorization = `Basic ${Buffer.from(basic.join(':')).toString('base64')}`;
    const response = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(form) });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  const provider = (extra: Configuration = {}) =>
    new Provider('http://127.0.0.1', { clients, features: { clientCredentials: { enabled: true }, introspection: { enabled: true } }, ...extra });

  it('a 500 for an unknown error can still be replaced by a server_error listener before it leaves (server-errors.ts)', async () => {
    class FailingAdapter {
      async find(): Promise<never> {
        throw new Error('the database is down');
      }
    }
    const bare = provider({ adapter: FailingAdapter as unknown as Configuration['adapter'] });
    replaceServerErrors(bare, (ctx) => {
      ctx.status = 503;
      ctx.body = { error: 'temporarily_unavailable', error_description: 'replaced' };
    });
    const url = await served(bare);
    // A client id the static list lacks is looked up in the adapter, which throws.
    expect(await post(`${url}/token`, { grant_type: 'client_credentials' }, ['unlisted', 'x'])).toEqual({
      status: 503,
      body: { error: 'temporarily_unavailable', error_description: 'replaced' },
    });
  });

  it('refuses an unknown client id, and a public client with a secret, without comparing a secret (unknown-clients.ts)', async () => {
    const bare = provider();
    const compared: string[] = [];
    replaceClientSecretComparison(bare, async (client) => (compared.push(client.clientId), false));
    const url = await served(bare);
    expect((await post(`${url}/token`, { grant_type: 'client_credentials' }, ['unknown', 'guess'])).status).toBe(401);
    expect((await post(`${url}/token`, { grant_type: 'client_credentials' }, ['public', 'guess'])).status).toBe(401);
    expect(compared).toEqual([]);
    // A client with a secret has it compared: the test sees comparisons when there are any.
    expect((await post(`${url}/token`, { grant_type: 'client_credentials' }, ['service', 'wrong'])).status).toBe(401);
    expect(compared).toEqual(['service']);
  });

  it('says invalid_request for no client authentication and for a grant type the client lacks (standard-errors.ts)', async () => {
    const url = await served(provider());
    expect(await post(`${url}/token`, { grant_type: 'client_credentials' })).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'no client authentication mechanism provided' },
    });
    expect(await post(`${url}/token`, { grant_type: 'client_credentials' }, ['no-grant', 'right'])).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' },
    });
  });

  it('answers 200 and ends nothing when revocation.allowedPolicy says no (revocation-policy.ts)', async () => {
    const url = await served(
      provider({
        features: {
          clientCredentials: { enabled: true },
          introspection: { enabled: true },
          revocation: { enabled: true, allowedPolicy: () => false },
        },
      }),
    );
    const token = (await post(`${url}/token`, { grant_type: 'client_credentials' }, ['service', 'right'])).body.access_token as string;
    expect(await post(`${url}/token/revocation`, { token }, ['service', 'right'])).toEqual({ status: 200, body: {} });
    expect((await post(`${url}/token/introspection`, { token }, ['service', 'right'])).body.active).toBe(true);
  });

  it('lets a public client introspect (public-introspection.ts refuses it)', async () => {
    const url = await served(provider());
    expect(await post(`${url}/token/introspection`, { token: 'anything', client_id: 'public' })).toEqual({ status: 200, body: { active: false } });
  });
});
