// Two instances with their own DATA_DIRs on one PostgreSQL database and one KEYS_ENCRYPTION_KEY:
// they share the keys, and two rotations while both sign and verify never leave a signed artefact
// unverifiable before it expires, on either instance's /jwks, even for a verifier that caches the
// key set for its max-age, and never leave a JWT access token inactive at the other instance's
// /introspect before its exp. The injected clock moves through the phases; nothing sleeps.
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningServer } from '../../src/server.js';
import { advanceClock } from '../helpers/clock.js';
import { startInstances, type Instances } from '../helpers/instances.js';
import { admin, basic, clientCredentialsToken, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { usingPostgres, SERVER_TEST_TIMEOUT_MS } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';
import { BrowserAgent, csrfOf, pkcePair } from '../helpers/browser-agent.js';
import { DpopKey } from '../helpers/dpop.js';
import { createUser, PASSWORD, REDIRECT_URI, registerAppClient, tokenRequest } from '../helpers/users.js';

const JWKS_CACHE_SECONDS = 300;
const STEP_MS = 150_000;

/** A signed artefact: the JWT, who signed it, and until when a verifier must accept it (seconds). */
interface Artefact {
  jwt: string;
  signer: string;
  validUntil: number;
  kind: string;
  /** For a token: the instance that must still introspect it as active until validUntil (not the one that issued it). */
  introspectedAt?: RunningServer;
}

/**
 * What the instances sign, each a way to get one artefact from an instance. A signed introspection
 * response (RFC 9701) stands for as long as the token it describes; a JWT access token (RFC 9068),
 * one per signing algorithm, until its own exp.
 */
type Producer = (instance: RunningServer, other: RunningServer) => Promise<Artefact>;

let instances: Instances;
let service: RegisteredClient;
let resourceServer: RegisteredClient;
/** A client of the resource servers whose tokens are JWTs. */
let jwtClient: RegisteredClient;

/** Resource servers whose access tokens are JWTs, one per signing algorithm, living as long as any token may. */
const JWT_RESOURCE_SERVERS = [
  { identifier: 'urn:example:rs256', signing_alg: 'RS256' },
  { identifier: 'urn:example:es256', signing_alg: 'ES256' },
  { identifier: 'urn:example:eddsa', signing_alg: 'EdDSA' },
] as const;
const JWT_SCOPE = 'jwt:read';

const signedIntrospection: Producer = async (instance, other) => {
  // Issued by the other instance, introspected by this one: the tokens are shared too.
  const token = (await clientCredentialsToken(other.url, service.client_id, service.client_secret, 'read')).body.access_token as string;
  const response = await fetch(`${instance.url}/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/token-introspection+jwt',
      authorization: basic(resourceServer.client_id, resourceServer.client_secret),
    },
    body: new URLSearchParams({ token }).toString(),
  });
  expect(response.status).toBe(200);
  const jwt = await response.text();
  const answer = decodeJwt(jwt).token_introspection as { active: boolean; exp: number };
  expect(answer.active).toBe(true);
  return { jwt, signer: instance.url, validUntil: answer.exp, kind: 'signed introspection response' };
};

const introspect = (instance: RunningServer, token: string) =>
  postForm(instance.url, '/introspect', { token }, [resourceServer.client_id, resourceServer.client_secret]);

const jwtAccessToken =
  ({ identifier, signing_alg: alg }: (typeof JWT_RESOURCE_SERVERS)[number]): Producer =>
  async (instance, other) => {
    const issued = await postForm(instance.url, '/token', { grant_type: 'client_credentials', resource: identifier, scope: JWT_SCOPE }, [
      jwtClient.client_id,
      jwtClient.client_secret,
    ]);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    const jwt = issued.body.access_token as string;
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg, typ: 'at+jwt' });
    const { exp, aud } = decodeJwt(jwt);
    expect(aud).toBe(identifier);
    return { jwt, signer: instance.url, validUntil: exp!, kind: `${alg} JWT access token`, introspectedAt: other };
  };

const PRODUCERS: Producer[] = [signedIntrospection, ...JWT_RESOURCE_SERVERS.map(jwtAccessToken)];

const jwksOf = async (instance: RunningServer) => (await (await fetch(`${instance.url}/jwks`)).json()) as JSONWebKeySet;
const currentKids = (instance: RunningServer) =>
  instance.app.keys.current.signing
    .filter((key) => key.state === 'current')
    .map((key) => key.kid)
    .sort()
    .join();

/** A key set as a verifier holds it: each key imported once, at its first use. */
const keySets = new WeakMap<JSONWebKeySet, ReturnType<typeof createLocalJWKSet>>();
function keySetOf(jwks: JSONWebKeySet): ReturnType<typeof createLocalJWKSet> {
  let keySet = keySets.get(jwks);
  if (!keySet) keySets.set(jwks, (keySet = createLocalJWKSet(jwks)));
  return keySet;
}

async function verify(artefact: Artefact, jwks: JSONWebKeySet, where: string): Promise<void> {
  const { kid } = decodeProtectedHeader(artefact.jwt);
  const published = jwks.keys.some((key) => key.kid === kid);
  expect(published, `${artefact.kind} signed by ${artefact.signer} with ${kid}, live until ${artefact.validUntil}: key missing from ${where}`).toBe(true);
  await jwtVerify(artefact.jwt, keySetOf(jwks), { issuer: 'http://127.0.0.1' });
}

/** A live token is active at the instance that did not issue it (which verifies its signature against its own key ring). */
async function expectActive(artefact: Artefact): Promise<void> {
  if (!artefact.introspectedAt) return;
  const { kid } = decodeProtectedHeader(artefact.jwt);
  const answer = await introspect(artefact.introspectedAt, artefact.jwt);
  expect(
    answer.body,
    `${artefact.kind} signed by ${artefact.signer} with ${kid}, live until ${artefact.validUntil}: inactive at ${artefact.introspectedAt.url}`,
  ).toMatchObject({ active: true, jti: decodeJwt(artefact.jwt).jti });
}

describe.skipIf(!usingPostgres)('two instances, their own DATA_DIRs, one KEYS_ENCRYPTION_KEY', { timeout: SERVER_TEST_TIMEOUT_MS }, () => {
  beforeAll(async () => {
    const env = { KEYS_ENCRYPTION_KEY: randomBytes(32).toString('hex'), JWKS_CACHE_SECONDS: String(JWKS_CACHE_SECONDS), DPOP_REQUIRE_NONCE: 'true' };
    instances = await startInstances(2, env, { separateDataDirs: true });
    const [a] = instances.servers as [RunningServer];
    // The longest-lived access token there is: the retention of a previous key must cover it.
    service = await registerClient(a.url, { scope: 'read', access_token_ttl: 3600 });
    resourceServer = await registerClient(a.url, { resource_server: true });
    for (const server of JWT_RESOURCE_SERVERS) {
      const created = await admin(a.url, 'POST', '/resource-servers', {
        ...server,
        name: server.signing_alg,
        scopes: [JWT_SCOPE],
        access_token_format: 'jwt',
        access_token_ttl: 3600,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    jwtClient = await registerClient(a.url, { scope: JWT_SCOPE, access_token_ttl: 3600 });
  }, 120_000);
  afterAll(() => instances?.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  it('share cookies: a sign-in started on one instance finishes on the other, every step on the other one', async () => {
    const [a, b] = instances.servers as [RunningServer, RunningServer];
    const user = await createUser(a.url);
    const client = await registerAppClient(a.url);
    const { verifier, challenge } = pkcePair();
    const agent = new BrowserAgent(a.url);
    // The instances share the issuer http://127.0.0.1; each request goes to the instance the last one did not.
    let turn = 0;
    const other = (location: string) => {
      const url = new URL(location);
      return `${(turn++ % 2 === 0 ? b : a).url}${url.pathname}${url.search}`;
    };
    const query = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope: 'read',
      state: 'xyz',
    });
    let page = await agent.get(`${a.url}/auth?${query}`);
    for (let hops = 0; hops < 12 && !page.location?.startsWith(REDIRECT_URI); hops += 1) {
      if (page.location) {
        page = await agent.get(other(page.location));
      } else if (page.text.includes('name="password"')) {
        const action = /action="([^"]*\/login)"/.exec(page.text)![1]!;
        page = await agent.post(other(new URL(action, 'http://127.0.0.1').href), { csrf: csrfOf(page.text), login: user.username, password: PASSWORD });
      } else if (page.text.includes('name="decision"')) {
        const action = /action="([^"]*\/consent)"/.exec(page.text)![1]!;
        page = await agent.post(other(new URL(action, 'http://127.0.0.1').href), { csrf: csrfOf(page.text), decision: 'allow' });
      } else {
        throw new Error(`unexpected page: ${page.status} ${page.text.slice(0, 300)}`);
      }
    }
    const code = new URL(page.location!).searchParams.get('code');
    expect(code, `${page.status} ${page.text.slice(0, 300)}`).toBeTruthy();
    expect(turn).toBeGreaterThan(2);
    const tokens = await tokenRequest(b.url, client, { grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
  });

  it('share the DPoP nonce secret: a nonce one instance issues is accepted by the other', async () => {
    const [a, b] = instances.servers as [RunningServer, RunningServer];
    const key = new DpopKey();
    const send = (instance: RunningServer, proof: string) =>
      fetch(`${instance.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(service.client_id, service.client_secret), dpop: proof },
        body: 'grant_type=client_credentials&scope=read',
      });
    const challenged = await send(a, key.proof('http://127.0.0.1/token'));
    expect(challenged.status).toBe(400);
    expect(((await challenged.json()) as { error: string }).error).toBe('use_dpop_nonce');
    const nonce = challenged.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();
    const answered = await send(b, key.proof('http://127.0.0.1/token', { nonce }));
    expect(answered.status, await answered.clone().text()).toBe(200);
    expect(((await answered.json()) as { token_type: string }).token_type).toBe('DPoP');
  });

  it('rotate twice while both sign and verify: every artefact verifies on both until it expires', { timeout: 600_000 }, async () => {
    const [a, b] = instances.servers as [RunningServer, RunningServer];
    const artefacts: Artefact[] = [];
    /** The key sets a caching verifier holds: each instance's, as fetched at the last step (at most max-age ago). */
    let cached: JSONWebKeySet[] = [await jwksOf(a), await jwksOf(b)];
    const seenKids = new Set<string>();
    const rotateAt = new Set([1, 5]);

    for (let step = 0; step < 36; step += 1) {
      if (rotateAt.has(step)) {
        const rotated = await admin((step === 1 ? a : b).url, 'POST', '/keys/rotate');
        expect(rotated.status).toBe(201);
      }
      // Both instances sign; each artefact is checked against what a verifier cached before it was made.
      for (const [instance, other] of [
        [a, b],
        [b, a],
      ] as const) {
        for (const produce of PRODUCERS) {
          const artefact = await produce(instance, other);
          seenKids.add(decodeProtectedHeader(artefact.jwt).kid!);
          artefacts.push(artefact);
          for (const [i, jwks] of cached.entries()) await verify(artefact, jwks, `instance ${i}'s key set cached ${STEP_MS / 1000} s ago`);
        }
      }
      // Every artefact still live verifies against both instances' key sets now.
      const now = Date.now() / 1000;
      const fresh = [await jwksOf(a), await jwksOf(b)];
      await Promise.all(
        artefacts
          .filter((artefact) => artefact.validUntil > now)
          .map(async (artefact) => {
            for (const [i, jwks] of fresh.entries()) await verify(artefact, jwks, `instance ${i}'s /jwks`);
            await expectActive(artefact);
          }),
      );
      cached = fresh;

      advanceClock(STEP_MS);
      await a.app.keys.tick();
      await b.app.keys.tick();
      // Within a second the other instance holds the same keys (the invalidation bus).
      await waitFor(() => currentKids(a) === currentKids(b), 'both instances to sign with the same keys', { timeoutMs: 5000, intervalMs: 20 });
    }

    // Two rotations: three generations of keys signed, one key per algorithm each (RS256 signs the introspection responses).
    expect(seenKids.size).toBe(9);
    // The first two generations are gone from /jwks by now (what they signed expired before they went).
    const published = new Set((await jwksOf(a)).keys.map((key) => key.kid));
    expect([...seenKids].filter((kid) => published.has(kid))).toHaveLength(3);
    // A token of every kind is still live, and the ones past their exp are inactive wherever they are introspected.
    const live = artefacts.filter((artefact) => artefact.validUntil > Date.now() / 1000);
    expect(new Set(live.map((artefact) => artefact.kind)).size).toBe(1 + JWT_RESOURCE_SERVERS.length);
    const expired = artefacts.find((artefact) => artefact.introspectedAt && artefact.validUntil <= Date.now() / 1000);
    expect((await introspect(expired!.introspectedAt!, expired!.jwt)).body).toEqual({ active: false });
  });
});
