// RFC 9701: a caller of /introspect that accepts application/token-introspection+jwt gets the
// answer as a JWT signed with the current key, verifiable against /jwks, with iss, aud (the
// caller), iat and the RFC 7662 answer in token_introspection. Other callers get JSON as before.
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, clientCredentialsToken, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate, SERVER_TEST_TIMEOUT_MS } from '../helpers/tollgate.js';

const JWT_TYPE = 'application/token-introspection+jwt';

let tollgate: TestTollgate;
let service: RegisteredClient;
let resourceServer: RegisteredClient;

beforeAll(async () => {
  tollgate = await startTollgate();
  service = await registerClient(tollgate.url, { scope: 'read' });
  resourceServer = await registerClient(tollgate.url, { resource_server: true });
}, 120_000);
afterAll(() => tollgate?.close());

async function introspect(token: string, caller: RegisteredClient, accept?: string): Promise<Response> {
  return fetch(`${tollgate.url}/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(caller.client_id, caller.client_secret),
      ...(accept ? { accept } : {}),
    },
    body: new URLSearchParams({ token }).toString(),
  });
}

async function verified(jwt: string, audience: string) {
  const jwks = (await (await fetch(`${tollgate.url}/jwks`)).json()) as JSONWebKeySet;
  return jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: tollgate.url, audience, typ: 'token-introspection+jwt' });
}

describe('signed introspection responses (RFC 9701)', { timeout: SERVER_TEST_TIMEOUT_MS }, () => {
  it('answer a caller that accepts them with a JWT signed by a published key: iss, aud, iat, token_introspection', async () => {
    const token = (await clientCredentialsToken(tollgate.url, service.client_id, service.client_secret, 'read')).body.access_token as string;
    // Twice: the second time the token's answer is remembered, and the fast path must still not answer JSON.
    for (let i = 0; i < 2; i += 1) {
      const response = await introspect(token, resourceServer, JWT_TYPE);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/token-introspection\+jwt/);
      expect(response.headers.get('cache-control')).toBe('no-store');
      const jwt = await response.text();
      const { payload, protectedHeader } = await verified(jwt, resourceServer.client_id);
      expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'token-introspection+jwt' });
      expect(typeof protectedHeader.kid).toBe('string');
      expect(payload.iss).toBe(tollgate.url);
      expect(payload.aud).toBe(resourceServer.client_id);
      expect(typeof payload.iat).toBe('number');
      expect(payload.token_introspection).toMatchObject({ active: true, client_id: service.client_id, scope: 'read', token_type: 'Bearer', iss: tollgate.url });
      // The same answer as the JSON one, inside.
      const json = (await (await introspect(token, resourceServer)).json()) as Record<string, unknown>;
      expect(payload.token_introspection).toEqual(json);
    }
  });

  it('sign an inactive answer too, and leave JSON callers with JSON', async () => {
    const response = await introspect('NoSuchToken0123456789abcdefghijklmnopqrstuv', resourceServer, `${JWT_TYPE}, application/json;q=0.5`);
    expect(response.status).toBe(200);
    const jwt = await response.text();
    expect(decodeProtectedHeader(jwt).typ).toBe('token-introspection+jwt');
    expect((await verified(jwt, resourceServer.client_id)).payload.token_introspection).toEqual({ active: false });

    const plain = await introspect('NoSuchToken0123456789abcdefghijklmnopqrstuv', resourceServer, 'application/json');
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await plain.json()).toEqual({ active: false });
  });

  it('are advertised in the metadata: introspection_signing_alg_values_supported', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const metadata = (await (await fetch(`${tollgate.url}${path}`)).json()) as Record<string, unknown>;
      expect(metadata.introspection_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256']));
    }
  });
});
