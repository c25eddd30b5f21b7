// The token endpoints' own handlers (src/tokens/*-handler.ts) against oidc-provider: generated
// valid and invalid issuance, introspection and revocation requests go once to the handlers and
// once to the provider (a second listener over the same app without them, test/helpers/provider-only.ts), and the two
// answers must agree in status, headers and body, token values aside.
import fc from 'fast-check';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, basic, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { checkProperty } from '../helpers/property.js';
import { type ProviderOnly, providerOnly } from '../helpers/provider-only.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

let tollgate: TestTollgate;
/** The same app, answered by the provider alone. */
let provider: ProviderOnly;
/** Clients by role: the generators pick among them. */
let clients: Record<'service' | 'other' | 'resourceServer' | 'postAuth' | 'dpopBound' | 'linked', RegisteredClient>;

/** Resource servers (RFC 8707) the requests may name: one with opaque tokens, one with JWTs (RFC 9068). */
const OPAQUE_API = 'https://opaque.example/api';
const JWT_API = 'https://jwt.example/api';

beforeAll(async () => {
  tollgate = await startTollgate();
  provider = await providerOnly(tollgate.running.app);
  const api = async (body: Record<string, unknown>) => (await admin(tollgate.url, 'POST', '/resource-servers', { name: 'API', ...body })).body.id as string;
  const opaqueApi = await api({ identifier: OPAQUE_API, scopes: ['read'] });
  await api({ identifier: JWT_API, scopes: ['read', 'write'], access_token_format: 'jwt', access_token_ttl: 90 });
  const register = (metadata: Record<string, unknown>) => registerClient(tollgate.url, { scope: 'read write', default_scope: 'read', ...metadata });
  clients = {
    service: await register({ access_token_ttl: 120 }),
    other: await register({}),
    resourceServer: await register({ resource_server: true }),
    postAuth: await register({ token_endpoint_auth_method: 'client_secret_post' }),
    dpopBound: await register({ dpop_bound_access_tokens: true }),
    // Acts for the opaque API: may introspect the tokens issued for it.
    linked: await register({ resource_server_id: opaqueApi }),
  };
}, 120_000);
afterAll(async () => {
  await provider?.close();
  await tollgate?.close();
});

type ClientRole = keyof typeof clients;
const ROLES: ClientRole[] = ['service', 'other', 'resourceServer', 'postAuth', 'dpopBound', 'linked'];

/** How a generated request authenticates. */
type Auth =
  | { kind: 'basic'; role: ClientRole }
  | { kind: 'wrong-secret'; role: ClientRole }
  | { kind: 'unknown-client' }
  | { kind: 'body'; role: ClientRole }
  | { kind: 'raw'; header: string }
  | { kind: 'none' };

const auth: fc.Arbitrary<Auth> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...ROLES, 'service', 'other', 'resourceServer', 'linked').map((role) => ({ kind: 'basic' as const, role })) },
  { weight: 1, arbitrary: fc.constantFrom(...ROLES).map((role) => ({ kind: 'wrong-secret' as const, role })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unknown-client' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(...ROLES).map((role) => ({ kind: 'body' as const, role })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('Basic', 'basic', 'Bearer', 'Basic  ', 'Basic Og==', 'Basic YTo=', 'Basic OmI=', 'Basic YQ', 'Basic YWI6Yw', 'Basic %%%', 'Basic YTpi=')
      .map((header) => ({ kind: 'raw' as const, header })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

/** A form parameter value: ordinary, empty, hostile or broken. */
const value = (ordinary: string[]) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...ordinary) },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a"b', 'x\\y', '%zz', '\u00e9t\u00e9', 'a\u0000b', 'read  write', ' read') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );

type Form = [string, string][];

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/x-www-form-urlencoded') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/x-www-form-urlencoded; charset=utf-8',
      'application/x-www-form-urlencoded; charset=ISO-8859-1',
      'application/json',
      'text/plain',
    ),
  },
);

const extras: fc.Arbitrary<Form> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Form>([]) },
  { weight: 1, arbitrary: fc.constantFrom<Form>([['resource', 'https://api.example.com']], [['foo', 'bar']], [['audience', 'x']], [['client_id', 'nobody']]) },
  // RFC 8707: a registered resource server (opaque or JWT tokens), twice, or one and an unknown one.
  {
    weight: 3,
    arbitrary: fc.constantFrom<Form>(
      [['resource', OPAQUE_API]],
      [['resource', JWT_API]],
      [
        ['resource', JWT_API],
        ['resource', OPAQUE_API],
      ],
      [['resource', `${JWT_API}#x`]],
    ),
  },
);

interface Generated {
  path: '/token' | '/introspect' | '/revoke';
  auth: Auth;
  form: Form;
  contentType: string;
  /** Extra request headers: an Origin (CORS), a DPoP proof, an Accept (RFC 9701 signed introspection), a query string on the URL. */
  origin: boolean;
  accept?: string;
  dpop: boolean;
  query: boolean;
  /** For introspection and revocation: whose token is sent (filled in per run). */
  token?: TokenRole | 'unknown' | 'jwt-shaped' | 'empty' | 'missing' | 'twice';
  /** Which of the pooled tokens an introspection sends. */
  pick: number;
}

const rarely = fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });
/** Mostly none; sometimes asking for a signed introspection response (RFC 9701), alone, preferred or not. */
const accept = fc.oneof(
  { weight: 8, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/token-introspection+jwt',
      'application/token-introspection+jwt, application/json;q=0.5',
      'application/json, application/token-introspection+jwt;q=0.1',
      'application/json',
      '*/*',
    ),
  },
);
const flags = fc.record({ origin: rarely, dpop: rarely, query: rarely, accept });

const issuance: fc.Arbitrary<Generated> = fc
  .record({
    auth,
    grantType: fc.option(
      value([
        'client_credentials',
        'client_credentials',
        'client_credentials',
        'client_credentials',
        'client_credentials',
        'refresh_token',
        'authorization_code',
        'password',
      ]),
      { nil: undefined, freq: 20 },
    ),
    scope: fc.option(value(['read', 'write', 'read write', 'write read', 'read read', 'admin', 'read admin']), { nil: undefined, freq: 4 }),
    twice: fc.oneof({ weight: 15, arbitrary: fc.constant(false as const) }, { weight: 1, arbitrary: fc.constantFrom('grant_type' as const, 'scope' as const) }),
    extra: extras,
    contentType,
    flags,
  })
  .map(({ auth, grantType, scope, twice, extra, contentType, flags }) => {
    const form: Form = [];
    if (grantType !== undefined) form.push(['grant_type', grantType]);
    if (scope !== undefined) form.push(['scope', scope]);
    if (twice === 'grant_type') form.push(['grant_type', 'client_credentials']);
    if (twice === 'scope') form.push(['scope', 'read']);
    return { path: '/token' as const, auth, form: [...form, ...extra], contentType, pick: 0, ...flags };
  });

const tokenQuery = (path: '/introspect' | '/revoke'): fc.Arbitrary<Generated> =>
  fc
    .record({
      auth,
      token: fc.constantFrom(
        'service',
        'service',
        'other',
        'resourceServer',
        'forOpaqueApi',
        'forJwtApi',
        'forJwtApi',
        'unknown',
        'jwt-shaped',
        'empty',
        'missing',
        'twice',
      ) as fc.Arbitrary<NonNullable<Generated['token']>>,
      hint: fc.option(value(['access_token', 'refresh_token', 'client_credentials']), { nil: undefined }),
      pick: fc.nat(),
      extra: extras,
      contentType,
      flags,
    })
    .map(({ auth, token, hint, pick, extra, contentType, flags }) => ({
      path,
      auth,
      token,
      pick,
      form: [...(hint === undefined ? [] : ([['token_type_hint', hint]] as Form)), ...extra],
      contentType,
      ...flags,
    }));

/** Whose access token a query sends: a client's, or the service's for a resource server (opaque, or a JWT). */
type TokenRole = 'service' | 'other' | 'resourceServer' | 'forOpaqueApi' | 'forJwtApi';
const TOKEN_ROLES: readonly string[] = ['service', 'other', 'resourceServer', 'forOpaqueApi', 'forJwtApi'] satisfies TokenRole[];
const RESOURCE_OF: Partial<Record<TokenRole, string>> = { forOpaqueApi: OPAQUE_API, forJwtApi: JWT_API };

/** An access token of `role`, issued by the provider path (so the handler has not seen it). */
async function tokenOf(role: TokenRole): Promise<string> {
  const resource = RESOURCE_OF[role];
  const client = clients[resource ? 'service' : (role as ClientRole)];
  const response = await fetch(`${tollgate.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, client.client_secret) },
    body: `grant_type=client_credentials&scope=read${resource ? `&resource=${encodeURIComponent(resource)}` : ''}`,
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token for ${role}: ${JSON.stringify(body)}`);
  return body.access_token;
}

function headersFor(request: Generated): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': request.contentType };
  const { auth } = request;
  if (auth.kind === 'basic') headers.authorization = basic(clients[auth.role].client_id, clients[auth.role].client_secret);
  if (auth.kind === 'wrong-secret') headers.authorization = basic(clients[auth.role].client_id, 'not-the-secret');
  if (auth.kind === 'unknown-client') headers.authorization = basic('no-such-client', 'whatever-secret');
  if (auth.kind === 'raw') headers.authorization = auth.header;
  if (request.origin) headers.origin = 'https://app.example.com';
  if (request.dpop) headers.dpop = 'not.a.proof';
  if (request.accept) headers.accept = request.accept;
  return headers;
}

function bodyFor(request: Generated, token: string | undefined): string {
  const form = [...request.form];
  if (request.auth.kind === 'body') {
    const client = clients[request.auth.role];
    form.push(['client_id', client.client_id], ['client_secret', client.client_secret]);
  }
  if (token !== undefined) form.unshift(['token', token]);
  if (request.token === 'twice' && token !== undefined) form.push(['token', token]);
  return form.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join('&');
}

/** Tokens introspection asks about again and again, remembered or not: a few of each role, made once. */
const pool = new Map<string, string[]>();
async function pooledTokenOf(role: TokenRole, pick: number): Promise<string> {
  const tokens = pool.get(role) ?? [];
  pool.set(role, tokens);
  if (tokens.length < 8) tokens.push(await tokenOf(role));
  return tokens[pick % tokens.length]!;
}

/** The token value a query sends: introspection may reuse one, revocation needs a fresh one per path. */
async function tokenFor(request: Generated): Promise<string | undefined> {
  const role = request.token;
  if (request.path === '/introspect' && role !== undefined && TOKEN_ROLES.includes(role)) return pooledTokenOf(role as TokenRole, request.pick);
  switch (request.token) {
    case undefined:
    case 'missing':
      return undefined;
    case 'unknown':
      return 'NoSuchToken0123456789abcdefghijklmnopqrstuv';
    case 'jwt-shaped':
      return 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.';
    case 'empty':
      return '';
    case 'twice':
      return tokenOf('service');
    default:
      return tokenOf(request.token);
  }
}

interface Observed {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

async function send(url: string, request: Generated, token: string | undefined): Promise<Observed> {
  const response = await fetch(`${url}${request.path}${request.query ? '?x=1' : ''}`, {
    method: 'POST',
    headers: headersFor(request),
    body: bodyFor(request, token),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // compared as text
  }
  // Token values differ by nature; everything else must not.
  if (body && typeof body === 'object' && 'access_token' in body) body = { ...body, access_token: typeof body.access_token };
  // A signed introspection response: its header and claims, but the second it was signed in.
  if (typeof body === 'string' && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(body)) {
    const { iat, ...claims } = decodeJwt(body);
    body = { header: decodeProtectedHeader(body), claims, iat: typeof iat };
  }
  const headers = Object.fromEntries(
    [...response.headers].filter(([name]) => !['date', 'x-request-id', 'content-length', 'keep-alive', 'connection'].includes(name)),
  );
  return { status: response.status, headers, body };
}

/** The answer with the handlers on, then the provider's answer to the same request. */
async function bothAnswers(request: Generated): Promise<{ handlers: Observed; provider: Observed }> {
  // A revoked token is gone: each path revokes its own, of the same kind.
  const handlerToken = await tokenFor(request);
  const providerToken = request.path === '/revoke' ? await tokenFor(request) : handlerToken;
  const handlers = await send(tollgate.url, request, handlerToken);
  const counted = await handlerAnswers();
  const answer = await send(provider.url, request, providerToken);
  // The provider-only listener shares the app's metrics: a handler answering there would be counted.
  expect(await handlerAnswers(), 'a handler answered on the provider-only listener').toBe(counted);
  return { handlers, provider: answer };
}

/** Cases per endpoint and run (revocation: half); each run draws them from a new seed, and DIFFERENTIAL_RUNS asks for more. */
const RUNS = Number(process.env.DIFFERENTIAL_RUNS ?? 250);

describe('the token endpoints’ handlers answer as oidc-provider does', () => {
  for (const [name, requests, runs] of [
    ['issuance', issuance, RUNS],
    ['introspection', tokenQuery('/introspect'), RUNS],
    ['revocation', tokenQuery('/revoke'), RUNS / 2],
  ] as const) {
    it(`${name}: status, headers and body agree`, async () => {
      let answeredByHandler = 0;
      const before = await handlerAnswers();
      await checkProperty(
        fc.asyncProperty(requests, async (request) => {
          const { handlers, provider } = await bothAnswers(request);
          expect(handlers, JSON.stringify(request)).toEqual(provider);
        }),
        { numRuns: runs },
      );
      answeredByHandler = (await handlerAnswers()) - before;
      // The comparison means something only if the handlers answered a good share themselves.
      expect(answeredByHandler).toBeGreaterThan(runs / 8);
    }, 600_000);
  }
});

async function handlerAnswers(): Promise<number> {
  const metric = await tollgate.running.app.metrics.registry.getSingleMetric('tollgate_handler_answers_total')?.get();
  return (metric?.values ?? []).reduce((sum, { value }) => sum + value, 0);
}
