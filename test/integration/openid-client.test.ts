// Tollgate as off-the-shelf OAuth clients see it: panva's openid-client and oauth4webapi, which
// validate discovery metadata and every response strictly, drive the token → introspect → revoke cycle.
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

let tollgate: TestTollgate;
let registered: RegisteredClient;
beforeAll(async () => {
  tollgate = await startTollgate();
  registered = await registerClient(tollgate.url, { scope: 'read write', default_scope: 'read' });
});
afterAll(() => tollgate?.close());

/** The test server is plain http on 127.0.0.1, which both libraries refuse unless told otherwise. */
const discover = (algorithm: 'oidc' | 'oauth2') =>
  client.discovery(new URL(tollgate.url), registered.client_id, undefined, client.ClientSecretBasic(registered.client_secret), {
    algorithm,
    execute: [client.allowInsecureRequests],
  });

describe('openid-client', () => {
  it('runs the token → introspect → revoke cycle from OpenID discovery', async () => {
    const config = await discover('oidc');
    expect(config.serverMetadata().issuer).toBe(tollgate.url);

    const tokens = await client.clientCredentialsGrant(config, { scope: 'write' });
    expect(tokens.token_type).toBe('bearer'); // openid-client normalises the case
    expect(tokens.scope).toBe('write');
    expect(tokens.expiresIn()).toBeGreaterThan(0);

    const active = await client.tokenIntrospection(config, tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: registered.client_id, scope: 'write', iss: tollgate.url, sub: registered.client_id });

    await client.tokenRevocation(config, tokens.access_token);
    expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
  });

  it('discovers the server at the RFC 8414 path, advertising exactly the endpoints it serves', async () => {
    const config = await discover('oauth2');
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(tollgate.url);
    const endpoints = Object.fromEntries(Object.entries(metadata).filter(([key]) => key.endsWith('_endpoint') || key === 'jwks_uri'));
    expect(endpoints).toEqual({
      authorization_endpoint: `${tollgate.url}/auth`,
      token_endpoint: `${tollgate.url}/token`,
      introspection_endpoint: `${tollgate.url}/introspect`,
      revocation_endpoint: `${tollgate.url}/revoke`,
      jwks_uri: `${tollgate.url}/jwks`,
    });
    expect(metadata.grant_types_supported).toEqual(['client_credentials', 'authorization_code', 'refresh_token']);

    // The discovered configuration works as well: default scopes when none are asked for.
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.scope).toBe('read');
  });
});

describe('oauth4webapi', () => {
  it('gets a token with client credentials and introspects it', async () => {
    const issuer = new URL(tollgate.url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
    const me: oauth.Client = { client_id: registered.client_id };
    const auth = oauth.ClientSecretBasic(registered.client_secret);
    const insecure = { [oauth.allowInsecureRequests]: true };

    const tokens = await oauth.processClientCredentialsResponse(
      as,
      me,
      await oauth.clientCredentialsGrantRequest(as, me, auth, { scope: 'read write' }, insecure),
    );
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'read write', expires_in: 300 });

    const introspection = await oauth.processIntrospectionResponse(as, me, await oauth.introspectionRequest(as, me, auth, tokens.access_token, insecure));
    expect(introspection).toMatchObject({ active: true, client_id: registered.client_id, scope: 'read write', token_type: 'Bearer' });
    expect(introspection.exp! - introspection.iat!).toBe(300);
  });
});
