// JWT access tokens (RFC 9068) through a key rotation, on the injected clock: a token signed by a
// key that has since stopped signing (`previous`) still introspects as active until its exp, as it
// still verifies against /jwks; tokens signed after the rotation carry the new key. No sleeps.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { advanceClock } from '../helpers/clock.js';
import { admin, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { startTollgate, SERVER_TEST_TIMEOUT_MS, type TestTollgate } from '../helpers/tollgate.js';

const JWKS_CACHE_SECONDS = 600;
const TTL = 3600;
const SCOPE = 'jwt:read';
const RESOURCE_SERVERS = [
  { identifier: 'urn:example:rs256', signing_alg: 'RS256' },
  { identifier: 'urn:example:es256', signing_alg: 'ES256' },
  { identifier: 'urn:example:eddsa', signing_alg: 'EdDSA' },
] as const;

let tollgate: TestTollgate;
let client: RegisteredClient;

beforeAll(async () => {
  tollgate = await startTollgate({ JWKS_CACHE_SECONDS: String(JWKS_CACHE_SECONDS) });
  for (const server of RESOURCE_SERVERS) {
    const created = await admin(tollgate.url, 'POST', '/resource-servers', {
      ...server,
      name: server.signing_alg,
      scopes: [SCOPE],
      access_token_format: 'jwt',
      access_token_ttl: TTL,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }
  client = await registerClient(tollgate.url, { scope: SCOPE, access_token_ttl: TTL });
}, SERVER_TEST_TIMEOUT_MS);
afterAll(() => tollgate?.close());
afterEach(() => {
  vi.useRealTimers();
});

/** One JWT access token per resource server (so per algorithm), issued now. */
async function issueTokens(): Promise<string[]> {
  return Promise.all(
    RESOURCE_SERVERS.map(async ({ identifier }) => {
      const issued = await postForm(tollgate.url, '/token', { grant_type: 'client_credentials', resource: identifier, scope: SCOPE }, [
        client.client_id,
        client.client_secret,
      ]);
      expect(issued.status, JSON.stringify(issued.body)).toBe(200);
      return issued.body.access_token as string;
    }),
  );
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid!;
const introspect = (token: string) => postForm(tollgate.url, '/introspect', { token }, [client.client_id, client.client_secret]);
const signingKids = async (state: string) =>
  ((await admin(tollgate.url, 'GET', '/keys')).body.keys as { kid: string; kind: string; state: string }[])
    .filter((key) => key.kind === 'signing' && key.state === state)
    .map((key) => key.kid)
    .sort();
const jwksKids = async () => ((await (await fetch(`${tollgate.url}/jwks`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);

async function expectActive(tokens: string[], why: string): Promise<void> {
  for (const token of tokens) {
    const answer = await introspect(token);
    expect(answer.body, `${decodeProtectedHeader(token).alg} token signed with ${kidOf(token)} ${why}`).toMatchObject({
      active: true,
      jti: decodeJwt(token).jti,
      aud: decodeJwt(token).aud,
    });
  }
}

async function expectInactive(tokens: string[]): Promise<void> {
  for (const token of tokens) expect((await introspect(token)).body).toEqual({ active: false });
}

describe('JWT access tokens through a key rotation', { timeout: SERVER_TEST_TIMEOUT_MS }, () => {
  it('introspect as active after the key that signed them became previous, until their exp', async () => {
    // The clock stands still from here, but for the steps below: the exp checks are to the second.
    advanceClock(0);
    const before = await issueTokens();
    const oldKids = before.map(kidOf);
    expect([...oldKids].sort()).toEqual(await signingKids('current'));

    // Rotated: the new keys are published, the old ones still sign.
    expect((await admin(tollgate.url, 'POST', '/keys/rotate')).status).toBe(201);
    const newKids = await signingKids('next');
    expect(newKids).toHaveLength(RESOURCE_SERVERS.length);
    const during = await issueTokens();
    expect(during.map(kidOf)).toEqual(oldKids);

    // JWKS_CACHE_SECONDS later the new keys sign; the old ones are `previous`, only verifying.
    advanceClock(JWKS_CACHE_SECONDS * 1000);
    await tollgate.running.app.keys.tick();
    expect(await signingKids('previous')).toEqual([...oldKids].sort());
    expect(await signingKids('current')).toEqual(newKids);
    const after = await issueTokens();
    expect([...after.map(kidOf)].sort()).toEqual(newKids);
    await expectActive([...before, ...during], 'before the rotation, its key now previous');
    await expectActive(after, 'after the rotation');

    // Revoking one signed by a previous key still ends it (it is found, then revoked).
    const [revoked, ...kept] = before as [string, ...string[]];
    expect((await postForm(tollgate.url, '/revoke', { token: revoked }, [client.client_id, client.client_secret])).status).toBe(200);
    await expectInactive([revoked]);

    // A second before the first tokens' exp they are still active; a second after, inactive.
    advanceClock((TTL - JWKS_CACHE_SECONDS - 1) * 1000);
    await tollgate.running.app.keys.tick();
    await expectActive(kept, 'a second before its exp');
    advanceClock(2000);
    await expectInactive([...before, ...during]);
    await expectActive(after, 'after the rotation, within its lifetime');
    // Their keys are still published: the retention covers the longest-lived token and a minute for clocks.
    expect(await jwksKids()).toEqual(expect.arrayContaining(oldKids));
  });
});
