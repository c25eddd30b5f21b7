// Generated hostile requests against every endpoint and method of a real server: broken and
// duplicated parameters, huge and empty bodies, wrong content types, invalid UTF-8 and NUL,
// overlong and malformed headers, bad Basic and DPoP headers, bad percent-encoding and path tricks.
// None may get a 5xx, break the connection or hang; every error is RFC 6749 §5.2 JSON (HTML on
// the sign-in pages); and the server still serves afterwards. FUZZ_RUNS requests per run (2000),
// FC_SEED replays a run (test/helpers/property.ts).
import fc from 'fast-check';
import { Agent, request as httpRequest, validateHeaderName, validateHeaderValue } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FORM_PARAMETERS, MAX_JSON_DEPTH } from '../../src/http/bodies.js';
import { knownPaths } from '../../src/http/endpoints.js';
import { STANDARD_METHODS } from '../../src/http/errors.js';
import { MAX_BODY_BYTES } from '../../src/http/validate.js';
import { BrowserAgent, csrfOf, pkcePair } from '../helpers/browser-agent.js';
import { admin, adminToken, basic, clientCredentialsToken, postForm, registerClient, type RegisteredClient } from '../helpers/oauth.js';
import { checkProperty } from '../helpers/property.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, registerAppClient, REDIRECT_URI } from '../helpers/users.js';

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
/** Requests sent at once, over as many keep-alive connections. */
const CONCURRENCY = 4;
const TIMEOUT_MS = 10_000;

/** What the generators pick from: the server's real clients, users, tokens and sign-in. */
interface World {
  url: string;
  adminToken: string;
  /** Sends requests and introspects; never in an admin path, so never changed or deleted. */
  service: RegisteredClient;
  /** Clients and a user the generated admin requests may change or delete. */
  victims: string[];
  userId: string;
  appClientId: string;
  /** An interaction started by GET /auth, and the browser cookies and sign-in form's CSRF token that go with it. */
  uid: string;
  cookies: string;
  csrf: string;
}

/** A generated request; `raw` ones go over a bare socket, the rest over keep-alive connections. */
interface Generated {
  method: string;
  target: string;
  headers: [string, string][];
  /** Its bytes, one character each (latin1): readable in a counterexample. */
  body?: string;
  chunked: boolean;
  raw?: string;
}

const FORM = 'application/x-www-form-urlencoded';

const often = <T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>, weight = 4) => fc.oneof({ weight, arbitrary: common }, { weight: 1, arbitrary: rare });

/** Strings a parser might choke on. */
const HOSTILE = [
  '',
  ' ',
  "' OR 1=1 --",
  '"; DROP TABLE clients; --',
  'a\u0000b',
  '\u0000',
  '%00',
  '%',
  '%zz',
  '%c0%af',
  '%ff%fe',
  '\u00e9t\u00e9',
  '\ud83d\ude00',
  '\ud800',
  '\\u0000',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '{"a":1}',
  '[]',
  'null',
  '-1',
  '0',
  '1e309',
  '9999999999999999999',
  '99999999999999999999999',
  '2026-13-45T99:99:99Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59+14:00',
  'true',
  '__proto__',
  'constructor',
  'a'.repeat(300),
];
const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

const PARAMETERS = [
  'grant_type',
  'scope',
  'token',
  'token_type_hint',
  'client_id',
  'client_secret',
  'client_assertion',
  'response_type',
  'redirect_uri',
  'code',
  'code_verifier',
  'code_challenge',
  'code_challenge_method',
  'refresh_token',
  'resource',
  'state',
  'nonce',
  'prompt',
  'request',
  'limit',
  'cursor',
  'type',
  'since',
  'until',
  'outcome',
  'subject',
  'login',
  'password',
  'csrf',
  'decision',
];
const ORDINARY: Record<string, string[]> = {
  grant_type: ['client_credentials', 'authorization_code', 'refresh_token', 'password'],
  scope: ['read', 'admin', 'openid read', 'read write'],
  response_type: ['code', 'token', 'code id_token'],
  redirect_uri: [REDIRECT_URI, 'https://evil.example/cb'],
  code_challenge_method: ['S256', 'plain'],
  limit: ['1', '200', '0', '-5', '1.5', 'x'],
  type: ['token.issued', 'client.created,token.revoked', ',,,'],
  since: ['2020-01-01T00:00:00Z', '2030-01-01T00:00:00+01:00'],
};
const parameterName = often(fc.constantFrom(...PARAMETERS), hostile, 6);
const parameterValue = (name: string) => (Object.hasOwn(ORDINARY, name) ? often(fc.constantFrom(...ORDINARY[name]!), hostile, 2) : hostile);
const parameters = fc.array(
  parameterName.chain((name) => parameterValue(name).map((value) => [name, value] as [string, string])),
  { maxLength: 6 },
);

/** Pairs as a urlencoded string: properly encoded, or as they come. */
const encoded = (pairs: [string, string][], raw: boolean) =>
  pairs.map(([name, value]) => (raw ? `${name}=${value}` : `${encodeText(name)}=${encodeText(value)}`)).join('&');
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const encodeText = (text: string) => encodeURIComponent(text.replace(LONE_SURROGATE, '\ufffd'));

const ADMIN_FIELDS = [
  'client_id',
  'client_name',
  'grant_types',
  'scope',
  'default_scope',
  'redirect_uris',
  'token_endpoint_auth_method',
  'access_token_ttl',
  'resource_server',
  'refresh_token_idle_ttl',
  'refresh_token_absolute_ttl',
  'refresh_token_reuse_grace',
  'dpop_bound_access_tokens',
  'disabled',
  'overlap_seconds',
  'username',
  'email',
  'password',
];
const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  hostile,
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    2 ** 53 + 2,
    1e308,
    -1e308,
    60,
    3600,
    'client_credentials',
    'none',
    'read admin',
    ['client_credentials'],
    ['authorization_code', 'refresh_token'],
    [REDIRECT_URI],
    ['http://evil.example'],
    {},
    [],
  ),
  fc.integer(),
  fc.array(hostile, { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const adminJson = fc.dictionary(often(fc.constantFrom(...ADMIN_FIELDS), hostile), jsonValue, { maxKeys: 5 }).map((value) => JSON.stringify(value));

/** Text as the latin1 string of its UTF-8 bytes. */
const bytes = (text: string) => Buffer.from(text).toString('latin1');
const INVALID_UTF8 = ['\xff\xfe\xfd', '\xc0\xaf', 'token=\xed\xa0\x80', '\xe2\x82', 'token=\u0000'];

/** A body, as bytes. */
const body: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: fc.tuple(parameters, fc.boolean()).map(([pairs, raw]) => bytes(encoded(pairs, raw))) },
  { weight: 5, arbitrary: adminJson.map(bytes) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '',
        '{',
        '{"a":}',
        '{"a":1,"a":2}',
        '{"client_name":"x","client_name":"y"}',
        '{"__proto__":{"admin":true}}',
        '[',
        '"x"',
        '1',
        'null',
        '[]',
        '[1,2]',
        'a=b',
        'grant_type=client_credentials',
        '\u0000',
        '{"client_name":"\\u0000"}',
      )
      .map(bytes),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('[', '{"a":'), fc.integer({ min: 1, max: 5000 })).map(([open, depth]) => open.repeat(depth)) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom(...INVALID_UTF8),
      fc.uint8Array({ maxLength: 64 }).map((octets) => Buffer.from(octets).toString('latin1')),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 40 * 1024)
      .map((size) => `grant_type=client_credentials&x=${'a'.repeat(size)}`.slice(0, size)),
  },
  { weight: 1, arbitrary: fc.constantFrom(16 * 1024 - 20, 17 * 1024).map((size) => JSON.stringify({ client_name: 'a'.repeat(size) })) },
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(FORM, 'application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      `${FORM}; charset=utf-8`,
      `${FORM}; charset=iso-8859-1`,
      `${FORM}; charset=utf-16`,
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-32',
      'text/plain',
      'text/html',
      'multipart/form-data',
      'multipart/form-data; boundary=x',
      `${FORM}, application/json`,
      'application/jwt',
      'application/merge-patch+json',
      'application/vnd.api+json',
      '',
      ';;;',
      '%%%',
      '*/*',
      'application/',
      `application/json; ${'a'.repeat(2000)}`,
    ),
  },
);

const b64 = (text: string) => Buffer.from(text, 'latin1').toString('base64');
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Authorization headers: real credentials, wrong ones, and broken ones. */
const authorization = (world: World) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(`Bearer ${world.adminToken}`, `bearer ${world.adminToken}`, basic(world.service.client_id, world.service.client_secret)),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        basic(world.service.client_id, 'wrong-secret'),
        basic('no-such-client', 'secret'),
        basic(world.adminToken, world.adminToken),
        `Bearer ${world.adminToken}x`,
        `DPoP ${world.adminToken}`,
        'Bearer',
        'Bearer ',
        `Bearer ${'a'.repeat(600)}`,
        'Basic',
        'Basic ',
        'Basic !!!',
        'Basic Og==',
        `Basic ${b64('a:b:c')}`,
        `Basic ${b64('%zz:%zz')}`,
        `Basic ${b64('%00:%00')}`,
        `Basic ${b64('\u00ff\u00fe:\u00ff')}`,
        `Basic ${b64(`${world.service.client_id}:${world.service.client_secret}`)}==`,
        `Basic ${b64(`${'a'.repeat(6000)}:b`)}`,
        'Basic a b c',
        'Negotiate abc',
        'Digest username="x"',
        'Basic\u00e9',
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('Basic ', 'Bearer ', 'DPoP ', ''), fc.string({ maxLength: 40, unit: 'binary-ascii' }))
        .map(([scheme, rest]) => scheme + rest),
    },
  );

/** DPoP proofs that are not: garbage, JWT-shaped junk, wrong types and algorithms. */
const dpop = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'not.a.proof',
      '...',
      'a.b.c',
      `${b64url({ typ: 'dpop+jwt', alg: 'none' })}.${b64url({ htm: 'POST', htu: 'http://x/token', iat: 0, jti: 'x' })}.`,
      `${b64url({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } })}.${b64url({})}.AAAA`,
      `${b64url({ typ: 'dpop+jwt', alg: 'HS256', jwk: { kty: 'oct', k: 'AA' } })}.${b64url({ htm: 'GET' })}.AAAA`,
      `${b64url('x')}.${b64url([])}.${b64url(null)}`,
      `${'a'.repeat(5000)}.b.c`,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 1 }), fc.jsonValue({ maxDepth: 1 })).map(([header, payload]) => `${b64url(header)}.${b64url(payload)}.sig`),
  },
);

/** Other headers, some duplicated, some broken. */
const extraHeaders = (world: World): fc.Arbitrary<[string, string][]> =>
  fc.array(
    fc.constantFrom<[string, string]>(
      ['cookie', world.cookies],
      ['cookie', `${world.cookies}; _interaction=bad; _interaction.sig=bad`],
      ['cookie', '=; ;;; a=%zz; b="\u00ff"'],
      ['cookie', `_session=${'a'.repeat(4000)}`],
      ['origin', 'https://app.example.com'],
      ['origin', 'null'],
      ['x-forwarded-for', '1.2.3.4, ::1, garbage, %00'],
      ['x-forwarded-for', 'a'.repeat(4000)],
      ['x-request-id', 'a'.repeat(200)],
      ['x-request-id', '../../\u00ff'],
      ['content-encoding', 'gzip'],
      ['content-encoding', 'deflate, br'],
      ['content-encoding', 'x-garbage'],
      ['accept', 'text/html'],
      ['accept', 'application/x-garbage;q=abc'],
      ['accept-encoding', 'gzip;q=0, *;q=0'],
      ['accept-language', '\u00ff\u00fe'],
      ['content-type', FORM],
      ['content-type', 'application/json'],
      ['authorization', 'Basic Og=='],
      ['dpop', 'x.y.z'],
      ['x-http-method-override', 'DELETE'],
      ['range', 'bytes=0-1'],
      ['if-none-match', '*'],
      ['host', 'evil.example'],
      ['access-control-request-method', 'POST'],
      ['x-garbage', '\u00ff'.repeat(100)],
    ),
    { maxLength: 3 },
  );

/** Paths the server serves (every endpoint the registry declares among them), and some it does not. */
const paths = (world: World) =>
  fc.constantFrom(
    ...knownPaths('issuer'),
    `/auth/${world.uid}`,
    '/auth/no-such-interaction',
    '/.well-known/webfinger',
    '/me',
    '/userinfo',
    '/session/end',
    '/reg',
    '/admin',
    '/admin/',
    '/admin/clients',
    `/admin/clients/${world.victims[0]}`,
    `/admin/clients/${world.victims[2]}`,
    `/admin/clients/${world.victims[1]}/secret`,
    '/admin/clients/no-such-client',
    '/admin/users',
    `/admin/users/${world.userId}`,
    `/admin/users/${world.userId}/consents`,
    `/admin/users/${world.userId}/consents/${world.appClientId}`,
    '/admin/users/00000000-0000-0000-0000-000000000000',
    '/admin/users/not-a-uuid',
    '/admin/audit',
    `/interaction/${world.uid}`,
    `/interaction/${world.uid}/login`,
    `/interaction/${world.uid}/consent`,
    `/interaction/${world.uid}/abort`,
    '/interaction/no-such-uid/login',
    '/assets/tollgate.css',
    '/assets/favicon.svg',
    '/assets/console.js',
    '/console',
    '/console/',
    '/console/login',
    '/console/callback',
    '/console/logout',
    '/console/clients',
    '/console/audit',
    '/',
    '/nope',
  );

/** Tricks on a path: doubled, dotted and encoded slashes, odd escapes, case, length. */
const PATH_TRICKS: ((path: string) => string)[] = [
  (p) => `/${p}`,
  (p) => `${p}/`,
  (p) => `${p}//`,
  (p) => p.replace(/\/([^/]*)$/, '/./$1'),
  (p) => `/x/..${p}`,
  (p) => `/x/%2e%2e${p}`,
  (p) => `${p}/..`,
  (p) => `${p}/%2e%2e/%2e%2e/etc/passwd`,
  (p) => p.replace(/(?!^)\//g, '%2f'),
  (p) => p.replace(/(?!^)\//g, '%2F'),
  (p) => p.replace(/\./g, '%2e'),
  (p) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
  (p) => p.toUpperCase(),
  (p) => `${p}%`,
  (p) => `${p}%zz`,
  (p) => `${p}%c0%af`,
  (p) => `${p}%00`,
  (p) => `${p}%ff`,
  (p) => `${p}\u00ff`,
  (p) => `${p};x=y`,
  (p) => `${p}#fragment`,
  (p) => p.replace(/\//g, '\\'),
  (p) => `${p}/${'a'.repeat(2000)}`,
  (p) => `${p}/${'a/'.repeat(3000)}`,
  (p) => `${'/.'.repeat(500)}${p}`,
];
const path = (world: World) =>
  fc
    .tuple(paths(world), fc.array(fc.constantFrom(...PATH_TRICKS), { maxLength: 2 }), fc.nat({ max: 3 }))
    .map(([base, tricks, skip]) => (skip ? base : tricks.reduce<string>((p, trick) => trick(p), base)));

/** A query string: none, parameters (duplicated at times), broken escapes, or a very long one. */
const query = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  { weight: 4, arbitrary: fc.tuple(parameters, fc.boolean()).map(([pairs, raw]) => `?${encoded(pairs, raw)}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '?',
      '??',
      '?&&&',
      '?=',
      '?a',
      '?a=%',
      '?a=%zz&a=%00',
      '?limit=1&limit=2',
      `?x=${'a'.repeat(8000)}`,
      '?%ff=%fe',
      '?a[b]=c&a[c]=d',
      '?__proto__[x]=1',
    ),
  },
);

const method = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...STANDARD_METHODS, 'GET', 'POST', 'POST') },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'SEARCH', 'PURGE', 'QUERY', 'CONNECT') },
);

/** Requests well-formed enough for node:http to send. */
const request = (world: World): fc.Arbitrary<Generated> =>
  fc
    .record({
      method,
      path: path(world),
      query,
      contentType: fc.option(contentType, { freq: 6 }),
      authorization: authorization(world),
      dpop,
      extra: extraHeaders(world),
      body,
      chunked: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .map(({ method, path, query, contentType, authorization, dpop, extra, body, chunked }) => {
      const headers: [string, string][] = [];
      if (contentType !== null) headers.push(['content-type', contentType]);
      if (authorization !== undefined) headers.push(['authorization', authorization]);
      if (dpop !== undefined) headers.push(['dpop', dpop]);
      return { method, target: path + query, headers: [...headers, ...extra], body, chunked };
    });

/**
 * Admin API requests that pass every check but one: the admin token, JSON and a route's valid
 * input, with a field or query parameter or two replaced by a hostile value, so that the values
 * reach the schemas and the database.
 */
const adminRequest = (world: World): fc.Arbitrary<Generated> => {
  const bodies: [string, string, Record<string, unknown>][] = [
    ['POST', '/admin/clients', { client_name: 'fuzz', scope: 'read' }],
    ['PATCH', `/admin/clients/${world.victims[0]}`, { client_name: 'renamed' }],
    ['POST', `/admin/clients/${world.victims[1]}/secret`, { overlap_seconds: 0 }],
    ['POST', '/admin/users', { username: 'fuzz-user', password: 'a long enough password' }],
    ['PATCH', `/admin/users/${world.userId}`, { email: 'fuzz@example.com' }],
  ];
  const queries: [string, string, Record<string, string>][] = [
    ['GET', '/admin/clients', { limit: '5', cursor: world.victims[0]! }],
    ['GET', '/admin/users', { limit: '5', cursor: world.userId }],
    ['GET', '/admin/audit', { type: 'token.issued', limit: '5', client_id: world.service.client_id, since: '2020-01-01T00:00:00Z' }],
    ['GET', `/admin/clients/${world.victims[2]}`, {}],
    ['GET', `/admin/users/${world.userId}/consents`, {}],
    ['DELETE', `/admin/users/${world.userId}/consents/${world.appClientId}`, {}],
  ];
  const otherField = often(
    fc.constantFrom(...ADMIN_FIELDS, 'limit', 'cursor', 'type', 'client_id', 'subject', 'actor', 'grant_id', 'request_id', 'outcome', 'since', 'until'),
    hostile,
  );
  /** Mostly the route's own fields, mostly given hostile strings. */
  const changes = (own: string[]) =>
    fc.array(fc.tuple(own.length ? often(fc.constantFrom(...own), otherField, 3) : otherField, often(hostile, jsonValue, 3)), { minLength: 1, maxLength: 2 });
  const headers: [string, string][] = [['authorization', `Bearer ${world.adminToken}`]];
  const withBody = fc.constantFrom(...bodies).chain(([method, path, valid]) =>
    changes(Object.keys(valid)).map((changed): Generated => {
      const body = { ...valid, ...Object.fromEntries(changed) };
      return { method, target: path, headers: [...headers, ['content-type', 'application/json']], body: bytes(JSON.stringify(body)), chunked: false };
    }),
  );
  const withQuery = fc.constantFrom(...queries).chain(([method, path, valid]) =>
    changes(Object.keys(valid)).map((changed): Generated => {
      const query = { ...valid, ...Object.fromEntries(changed.map(([name, value]) => [name, typeof value === 'string' ? value : JSON.stringify(value)])) };
      return { method, target: `${path}?${encoded(Object.entries(query), false)}`, headers, chunked: false };
    }),
  );
  return fc.oneof(withBody, withQuery);
};

/** Token endpoint requests from a real client, with a parameter or two replaced by a hostile value. */
const tokenRequest = (world: World): fc.Arbitrary<Generated> =>
  fc
    .tuple(
      fc.constantFrom<[string, [string, string][]]>(
        [
          '/token',
          [
            ['grant_type', 'client_credentials'],
            ['scope', 'read'],
          ],
        ],
        ['/introspect', [['token', 'x']]],
        ['/revoke', [['token', 'x']]],
      ),
      parameters,
      dpop,
    )
    .map(([[path, valid], changed, proof]) => ({
      method: 'POST',
      target: path,
      headers: [
        ['content-type', FORM],
        ['authorization', basic(world.service.client_id, world.service.client_secret)],
        ...(proof === undefined ? [] : [['dpop', proof] as [string, string]]),
      ],
      body: bytes(encoded([...valid, ...changed], false)),
      chunked: false,
    }));

/** Authorization requests of the real sign-in client, with a parameter or two replaced by a hostile value. */
const authorizationRequest = (world: World): fc.Arbitrary<Generated> => {
  const valid: Record<string, string> = {
    client_id: world.appClientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    scope: 'read',
    state: 'fuzz',
  };
  const names = [
    ...Object.keys(valid),
    'login_hint',
    'prompt',
    'nonce',
    'max_age',
    'ui_locales',
    'claims',
    'request',
    'request_uri',
    'response_mode',
    'resource',
    'acr_values',
    'id_token_hint',
    'display',
  ];
  const changes = fc.array(fc.tuple(often(fc.constantFrom(...names), hostile, 6), hostile), { minLength: 1, maxLength: 2 });
  return fc.tuple(fc.constantFrom('GET', 'POST'), changes, fc.boolean()).map(([method, changed, withCookies]): Generated => {
    const query = encoded(Object.entries({ ...valid, ...Object.fromEntries(changed) }), false);
    const headers: [string, string][] = withCookies ? [['cookie', world.cookies]] : [];
    if (method === 'GET') return { method, target: `/auth?${query}`, headers, chunked: false };
    return { method, target: '/auth', headers: [...headers, ['content-type', FORM]], body: query, chunked: false };
  });
};

/** The sign-in forms as the browser that started the interaction posts them (its cookies and CSRF token), with hostile fields. */
const signInRequest = (world: World): fc.Arbitrary<Generated> => {
  const field = often(fc.constantFrom('login', 'password', 'decision', 'remember', 'csrf'), hostile);
  const form = fc.array(fc.tuple(field, hostile), { maxLength: 3 });
  return fc.tuple(fc.constantFrom('login', 'consent'), form).map(
    ([step, pairs]): Generated => ({
      method: 'POST',
      target: `/interaction/${world.uid}/${step}`,
      headers: [
        ['cookie', world.cookies],
        ['content-type', FORM],
      ],
      body: bytes(encoded([['csrf', world.csrf], ['login', 'nobody'], ['password', 'wrong'], ...pairs], false)),
      chunked: false,
    }),
  );
};

/** Requests only a bare socket can send: control characters, malformed lines and framing, oversized heads. */
const malformed: fc.Arbitrary<Generated> = fc
  .constantFrom(
    'GET /healthz\u0000 HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /token HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\n\r\n',
    'GET /to ken HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /admin/clients?a=\u0001 HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /\u00e9\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET * HTTP/1.1\r\nHost: x\r\n\r\n',
    'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET http://evil.example/admin/clients HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET token HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /healthz HTTP/1.0\r\n\r\n',
    'GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n',
    'GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n',
    'GET /healthz\r\n\r\n',
    'get /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET /healthz HTTP/1.1\nHost: x\n\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
    'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
    'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
    'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
    'POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
    'POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n',
    'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
    'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
    'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 1 \r\n\r\na',
    'POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n',
    'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2\r\n\r\nab GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    'POST /admin/clients HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}{"client_name":"smuggled"}',
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    `GET /healthz HTTP/1.1\r\nHost: x\r\n${'X-Many: a\r\n'.repeat(2500)}\r\n`,
    `${'G'.repeat(5000)} /healthz HTTP/1.1\r\nHost: x\r\n\r\n`,
    '\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
    '\u0000\u0001\u0002\u0003',
    '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003',
  )
  .map((raw) => ({ method: raw.split(' ')[0]!, target: raw.split(' ')[1] ?? '', headers: [], chunked: false, raw }));

/** A generated request that node:http would refuse to send, as raw bytes with the same meaning. */
function needsRawSocket(request: Generated): boolean {
  // A request Node's parser refuses is answered without knowing its method: a HEAD gets a body
  // then, which node:http would take for a broken answer. HEAD requests go raw.
  if (request.raw !== undefined || !STANDARD_METHODS.includes(request.method) || request.method === 'HEAD') return true;
  if (/[^\x21-\xff]/.test(request.target)) return true;
  try {
    for (const [name, value] of request.headers) {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    }
    return false;
  } catch {
    return true;
  }
}

function rawBytes(request: Generated): Buffer {
  if (request.raw !== undefined) return Buffer.from(request.raw, 'latin1');
  // The request line as UTF-8 (a path may hold any character), header values as the bytes they name.
  const lines = ['Host: 127.0.0.1', ...request.headers.map(([name, value]) => `${name}: ${value}`), 'Connection: close'];
  if (request.body) lines.push(`Content-Length: ${request.body.length}`);
  return Buffer.concat([
    Buffer.from(`${request.method} ${request.target} HTTP/1.1\r\n`),
    Buffer.from(`${lines.join('\r\n')}\r\n\r\n${request.body ?? ''}`, 'latin1'),
  ]);
}

interface Reply {
  status: number;
  contentType: string;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
afterAll(() => agent.destroy());

function send(url: string, request: Generated): Promise<Reply> {
  if (needsRawSocket(request)) {
    return rawRequest(url, rawBytes(request), TIMEOUT_MS).then(({ status, headers, body }) => ({
      status,
      contentType: /\r\ncontent-type: *([^\r]*)/i.exec(headers)?.[1] ?? '',
      body,
    }));
  }
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // As rawHeaders: duplicates are sent as they are.
    const headers = request.headers.flat();
    if (!request.headers.some(([name]) => name === 'host')) headers.push('host', `${hostname}:${port}`);
    if (request.chunked && request.body) headers.push('transfer-encoding', 'chunked');
    else if (request.body) headers.push('content-length', String(request.body.length));
    const outgoing = httpRequest({ agent, hostname, port, method: request.method, path: request.target, headers, timeout: TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'] ?? '', body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    outgoing.on('error', reject);
    outgoing.end(request.body === undefined ? undefined : Buffer.from(request.body, 'latin1'));
  });
}

/** The browser-facing routes, whose errors are HTML pages for a person. */
const isPage = (target: string) => /^\/(interaction\/|auth(\/|[?#]|$)|console(\/|[?#]|$))/.test(target);

function describeRequest(request: Generated): string {
  const body = request.body ? ` body=${JSON.stringify(request.body.slice(0, 200))}` : '';
  return `${request.method} ${JSON.stringify(request.target.slice(0, 200))} ${JSON.stringify(request.headers.map(([n, v]) => [n, v.slice(0, 100)]))}${body}${request.raw === undefined ? '' : ' (raw)'}`;
}

/** No 5xx; every error RFC 6749 §5.2 JSON with a string `error`, or an HTML page on the sign-in routes. */
function checkReply(request: Generated, reply: Reply): void {
  const context = `${describeRequest(request)} → ${reply.status} ${reply.contentType} ${reply.body.slice(0, 300)}`;
  expect(reply.status, context).toBeGreaterThanOrEqual(100);
  expect(reply.status, context).toBeLessThan(500);
  if (reply.status < 400) return;
  if (isPage(request.target) && /^text\/html\b/.test(reply.contentType)) {
    if (request.method !== 'HEAD') expect(reply.body, context).toMatch(/^<!doctype html>/i);
    return;
  }
  expect(reply.contentType, context).toMatch(/^application\/json\b/);
  if (request.method === 'HEAD') return;
  const parsed = JSON.parse(reply.body) as { error?: unknown };
  expect(typeof parsed.error, context).toBe('string');
}

async function setUpWorld(tollgate: TestTollgate): Promise<World> {
  const { url } = tollgate;
  const service = await registerClient(url, { scope: 'read' });
  const victims = [
    (await registerClient(url, { scope: 'read write' })).client_id,
    (await registerClient(url)).client_id,
    (await registerAppClient(url)).client_id,
  ];
  const app = await registerAppClient(url);
  const user = await createUser(url);
  // An interaction in progress: GET /auth sends the browser to the sign-in page with its cookies.
  const browser = new BrowserAgent(url);
  const query = new URLSearchParams({
    client_id: app.client_id,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    code_challenge: pkcePair().challenge,
    code_challenge_method: 'S256',
    scope: 'read',
  });
  const page = await browser.follow(`/auth?${query}`);
  const uid = /action="\/interaction\/([\w-]+)\/login"/.exec(page.text)?.[1];
  if (!uid) throw new Error(`no sign-in page: ${page.status} ${page.text.slice(0, 300)}`);
  return {
    url,
    adminToken: await adminToken(url),
    service,
    victims,
    userId: user.id,
    appClientId: app.client_id,
    uid,
    cookies: [...browser.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
    csrf: csrfOf(page.text),
  };
}

/** Sends `runs` generated requests, CONCURRENCY at a time, each checked by `check`. */
async function fuzz(world: World, runs: number, check: (request: Generated, reply: Reply) => void): Promise<number> {
  let sent = 0;
  const requests = fc.oneof(
    { weight: 12, arbitrary: request(world) },
    { weight: 6, arbitrary: adminRequest(world) },
    { weight: 2, arbitrary: tokenRequest(world) },
    { weight: 2, arbitrary: authorizationRequest(world) },
    { weight: 2, arbitrary: signInRequest(world) },
    { weight: 1, arbitrary: malformed },
  );
  await checkProperty(
    fc.asyncProperty(fc.array(requests, { minLength: CONCURRENCY, maxLength: CONCURRENCY }), async (batch) => {
      await Promise.all(
        batch.map(async (generated) => {
          const reply = await send(world.url, generated).catch((err: Error) => {
            throw new Error(`${describeRequest(generated)}: ${err.message}`);
          });
          sent += 1;
          check(generated, reply);
        }),
      );
    }),
    // A batch that outlives its requests' deadlines is a hang too; shrinking one stops after a while.
    { numRuns: Math.ceil(runs / CONCURRENCY), timeout: 2 * TIMEOUT_MS, interruptAfterTimeLimit: 500_000, markInterruptAsFailure: true },
  );
  return sent;
}

describe('generated hostile requests, rate limits off', () => {
  let tollgate: TestTollgate;
  let world: World;

  beforeAll(async () => {
    tollgate = await startTollgate();
    world = await setUpWorld(tollgate);
  });
  afterAll(() => tollgate?.close());

  it(`${FUZZ_RUNS} requests: no 5xx, no broken connection or hang, every error JSON`, async () => {
    const sent = await fuzz(world, FUZZ_RUNS, checkReply);
    expect(sent).toBeGreaterThanOrEqual(FUZZ_RUNS);
  }, 600_000);

  it('logged no 5xx and no error', () => {
    expect(tollgate.logs.filter((line) => line.msg === 'request' && (line.status as number) >= 500)).toEqual([]);
    expect(tollgate.logs.filter((line) => (line.level as number) >= 50)).toEqual([]);
  });

  it('still serves: health, a client_credentials token and its introspection', async () => {
    expect((await fetch(`${tollgate.url}/healthz`)).status).toBe(200);
    const issued = await clientCredentialsToken(tollgate.url, world.service.client_id, world.service.client_secret, 'read');
    expect(issued.status).toBe(200);
    const introspected = await postForm(tollgate.url, '/introspect', { token: issued.body.access_token as string }, [
      world.service.client_id,
      world.service.client_secret,
    ]);
    expect(introspected.body).toMatchObject({ active: true, client_id: world.service.client_id });
  });
});

describe('generated hostile requests, rate limits on', () => {
  let tollgate: TestTollgate;
  let world: World;

  beforeAll(async () => {
    // Low enough that the requests below run into every kind of limit; high enough for the set-up.
    tollgate = await startTollgate({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_TOKEN_PER_IP: '40',
      RATE_LIMIT_TOKEN_PER_CLIENT: '40',
      RATE_LIMIT_INTROSPECT_PER_IP: '20',
      RATE_LIMIT_REVOKE_PER_IP: '20',
      RATE_LIMIT_ADMIN_PER_IP: '40',
      RATE_LIMIT_CLIENT_AUTH_FAILURES: '3',
      RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_IP: '10',
      RATE_LIMIT_LOGIN_FAILURES_PER_USER: '2',
      RATE_LIMIT_LOGIN_FAILURES_PER_IP: '5',
    });
    world = await setUpWorld(tollgate);
  });
  afterAll(() => tollgate?.close());

  it('are refused with 429 and other 4xx, never a 5xx', async () => {
    let limited = 0;
    await fuzz(world, Math.max(400, Math.ceil(FUZZ_RUNS / 10)), (request, reply) => {
      checkReply(request, reply);
      if (reply.status === 429) limited += 1;
    });
    expect(limited).toBeGreaterThan(0);
    expect(tollgate.logs.filter((line) => line.msg === 'request' && (line.status as number) >= 500)).toEqual([]);
  }, 600_000);
});

/** JSON nested `depth` levels (arrays and objects as `shape` alternates them) around a leaf, closed or cut off. */
const nestedJson = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 1, max: MAX_JSON_DEPTH + 2 }), fc.integer({ min: 1, max: 6000 })),
    shape: fc.array(fc.constantFrom('[', '{"a":', '{"\\"[":', '[1,"]",'), { minLength: 1, maxLength: 4 }),
    leaf: fc.constantFrom('1', '"x"', '[]', '{}', '"[[[["', 'null'),
    closed: often(fc.constant(true), fc.constant(false), 6),
  })
  .map(({ depth, shape, leaf, closed }) => {
    let open = '';
    let close = '';
    for (let level = 0; level < depth; level++) {
      const opener = shape[level % shape.length]!;
      open += opener;
      close = (opener.startsWith('[') ? ']' : '}') + close;
    }
    const leafDepth = leaf === '[]' || leaf === '{}' ? 1 : 0;
    return { depth: depth + leafDepth, text: `${open}${leaf}${closed ? close : ''}`, closed };
  });

/** Admin requests whose body is, or has a field holding, deeply nested JSON. */
const deepAdminRequest = (world: World) =>
  fc
    .tuple(
      fc.constantFrom(
        ['POST', '/admin/clients'],
        ['PATCH', `/admin/clients/${world.victims[0]}`],
        ['POST', `/admin/clients/${world.victims[1]}/secret`],
        ['POST', '/admin/users'],
        ['POST', '/admin/resource-servers'],
      ),
      nestedJson,
      fc.option(fc.constantFrom('client_name', 'scope', 'redirect_uris', 'overlap_seconds', 'username', 'routes'), { freq: 2 }),
    )
    .map(([[method, target], nested, field]) => ({
      depth: nested.depth + (field === null ? 0 : 1),
      closed: nested.closed,
      generated: {
        method: method!,
        target: target!,
        headers: [
          ['authorization', `Bearer ${world.adminToken}`],
          ['content-type', 'application/json'],
        ] as [string, string][],
        body: bytes(field === null ? nested.text : `{"${field}":${nested.text}}`),
        chunked: false,
      },
    }));

/** Forms with a parameter repeated many times, to the token endpoints and the sign-in page. */
const longFormRequest = (world: World) =>
  fc
    .tuple(
      fc.constantFrom<[string, [string, string][], boolean]>(
        [
          '/token',
          [
            ['grant_type', 'client_credentials'],
            ['scope', 'read'],
          ],
          true,
        ],
        ['/introspect', [['token', 'x']], true],
        ['/revoke', [['token', 'x']], true],
        [
          `/interaction/${world.uid}/login`,
          [
            ['csrf', world.csrf],
            ['login', 'nobody'],
            ['password', 'x'],
          ],
          false,
        ],
      ),
      often(fc.constantFrom('x', 'resource', 'scope', 'token'), hostile),
      fc.oneof(fc.integer({ min: 0, max: MAX_FORM_PARAMETERS + 5 }), fc.integer({ min: 0, max: 3000 })),
    )
    .map(([[target, valid, api], name, repeats]) => {
      const pairs: [string, string][] = [...valid, ...Array.from({ length: repeats }, () => [name, '1'] as [string, string])];
      const auth: [string, string][] = api ? [['authorization', basic(world.service.client_id, world.service.client_secret)]] : [['cookie', world.cookies]];
      return {
        parameters: pairs.length,
        api,
        generated: {
          method: 'POST',
          target,
          headers: [['content-type', FORM], ...auth] as [string, string][],
          body: bytes(encoded(pairs, false)),
          chunked: false,
        },
      };
    });

describe('generated deeply nested JSON and long forms', () => {
  let tollgate: TestTollgate;
  let world: World;
  const RUNS = Math.max(200, Math.ceil(FUZZ_RUNS / 25));

  beforeAll(async () => {
    tollgate = await startTollgate();
    world = await setUpWorld(tollgate);
  });
  afterAll(() => tollgate?.close());

  it(`${RUNS} requests: refused with 400 past the limits, never a 5xx`, async () => {
    const limits = { depth: 0, parameters: 0 };
    const requests = fc.oneof(
      deepAdminRequest(world).map((deep) => ({ deep, long: undefined })),
      longFormRequest(world).map((long) => ({ deep: undefined, long })),
    );
    await checkProperty(
      fc.asyncProperty(requests, async ({ deep, long }) => {
        const generated = (deep ?? long)!.generated;
        const reply = await send(world.url, generated);
        checkReply(generated, reply);
        const fits = generated.body!.length <= MAX_BODY_BYTES;
        if (deep && deep.depth > MAX_JSON_DEPTH && fits) {
          expect(reply.status, describeRequest(generated)).toBe(400);
          if (deep.closed) {
            expect(reply.body, describeRequest(generated)).toContain(`nested at most ${MAX_JSON_DEPTH} levels`);
            limits.depth += 1;
          }
        }
        if (long && long.parameters > MAX_FORM_PARAMETERS && fits) {
          expect(reply.status, describeRequest(generated)).toBe(400);
          if (long.api) {
            expect(reply.body, describeRequest(generated)).toContain(`at most ${MAX_FORM_PARAMETERS} parameters`);
            limits.parameters += 1;
          }
        }
      }),
      { numRuns: RUNS },
    );
    expect(limits.depth).toBeGreaterThan(0);
    expect(limits.parameters).toBeGreaterThan(0);
    expect(tollgate.logs.filter((line) => line.msg === 'request' && (line.status as number) >= 500)).toEqual([]);
  }, 300_000);
});
/**
 * Original targets built from the tricks that make servers read one path two ways (docs/gateway.md,
 * Tricks and answers), asked about through every gateway convention: none may get a 5xx, and none
 * that a server could read otherwise may pass. A WHATWG URL parser stands in for "a server": a
 * target passes only if it leaves the path as it is, and holds no `;`, `//` or `#`.
 */
describe('generated gateway targets', () => {
  const KEY = 'gateway-key-0123456789abcdefghijklmnopqrstuvwxyz';
  const HOST = 'tricks.example';
  const ATOMS = [
    'public',
    'a',
    'admin',
    'ADMIN',
    'Admin',
    'x',
    '',
    '.',
    '..',
    '..;',
    ';x=1',
    'admin.',
    'admin%20',
    '%2e',
    '%2E%2e',
    '%2f',
    '%2F',
    '%5c',
    '%3b',
    '%25',
    '%252f',
    '\\',
    '#',
    '?',
    '?q=/../',
    '%',
    '%zz',
    '%00',
    '%0a',
    '%41',
    '%6f',
    '%3A',
    '%40',
    '%7E',
    '%2b',
    '%20x',
    '%5B',
    '%C4%B0',
    '\u0130',
    '\u212a',
    'a b',
    '@',
    ':',
    '~',
    "'",
    '*',
    '\u0000',
    '\t',
  ];
  const PREFIXES = ['/', '/', '/', '//', '///', 'http://evil.example/', '//evil.example/', '\\', '', '/public/', '/a/', '/public/..;/'];
  let tollgate: TestTollgate;
  let authorization: string;

  beforeAll(async () => {
    tollgate = await startTollgate({ GATEWAY_PORT: '0', GATEWAY_KEY: KEY });
    const created = await admin(tollgate.url, 'POST', '/resource-servers', { identifier: `https://${HOST}`, name: 'Tricks', scopes: ['a:read', 'admin'] });
    const routes = [
      { path: '/public/**', public: true },
      { path: '/a/admin/**', scopes_all: ['admin'] },
      { path: '/a/**', scopes_all: ['a:read'] },
    ];
    expect((await admin(tollgate.url, 'PUT', `/resource-servers/${created.body.id as string}/routes`, { routes })).status).toBe(200);
    const client = await registerClient(tollgate.url, { scope: 'a:read' });
    const issued = await postForm(tollgate.url, '/token', { grant_type: 'client_credentials', scope: 'a:read', resource: `https://${HOST}` }, [
      client.client_id,
      client.client_secret,
    ]);
    authorization = `Bearer ${issued.body.access_token as string}`;
  });
  afterAll(() => tollgate?.close());

  const target = fc
    .tuple(
      fc.constantFrom(...PREFIXES),
      fc.array(fc.tuple(fc.constantFrom(...ATOMS), fc.constantFrom('/', '/', '')), { maxLength: 6 }),
      fc.constantFrom('/', '', '.', ''),
    )
    .map(([prefix, parts, end]) => prefix + parts.map(([atom, separator]) => atom + separator).join('') + end);
  const convention = fc.constantFrom('x-original-uri', 'x-forwarded-uri', 'envoy');

  /**
   * Could a server read the target's path as another path? Routers match the raw path, so an
   * escape of a character the path may hold as is (`%6F` for `o`) is read otherwise once decoded.
   */
  const ambiguous = (uri: string) => {
    if (!uri.startsWith('/') || uri.includes('#')) return true;
    const path = uri.split('?')[0]!;
    const escaped = [...path.matchAll(/%([0-9a-f]{2})/gi)].map(([, hex]) => String.fromCharCode(Number.parseInt(hex!, 16)));
    if (escaped.some((character) => /[A-Za-z0-9\-._~!$&'()*+,;=:@]/.test(character))) return true;
    return /;|\/\/|[^\x21-\x7e]/.test(path) || URL.parse(path, 'http://h')?.pathname !== path;
  };

  it('answers every one below 500, and passes none a server could read otherwise', async () => {
    const gateway = tollgate.running.gatewayUrl!;
    const answers = new Map<number, number>();
    await checkProperty(
      fc.asyncProperty(target, convention, fc.boolean(), async (uri, via, withToken) => {
        const headers = [`host: ${HOST}`, `x-gateway-key: ${KEY}`, ...(withToken ? [`authorization: ${authorization}`] : [])];
        // Sent as UTF-8 bytes: Envoy's in the request line, the others in a header.
        const request =
          via === 'envoy'
            ? `GET /gateway/check${uri} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`
            : `GET /gateway/check HTTP/1.1\r\n${[...headers, `${via}: ${uri}`].join('\r\n')}\r\n\r\n`;
        const reply = await rawRequest(gateway, Buffer.from(request, 'utf8'));
        answers.set(reply.status, (answers.get(reply.status) ?? 0) + 1);
        expect(reply.status, `${via}: ${JSON.stringify(uri)}`).toBeLessThan(500);
        // A header value arrives without its leading and trailing blanks (RFC 9110 §5.5).
        const received = via === 'envoy' ? uri : uri.replace(/^[ \t]+|[ \t]+$/g, '');
        if (reply.status === 200) expect(ambiguous(received), `${via}: ${JSON.stringify(uri)} passed`).toBe(false);
        if (reply.status === 400 && reply.body) expect(typeof (JSON.parse(reply.body) as { error?: unknown }).error).toBe('string');
      }),
      { numRuns: Math.max(300, Math.ceil(FUZZ_RUNS / 5)) },
    );
    // The generators reach both sides: targets that pass and targets refused as ambiguous.
    expect(answers.get(200), JSON.stringify([...answers])).toBeGreaterThan(0);
    expect(answers.get(400), JSON.stringify([...answers])).toBeGreaterThan(0);
    expect(tollgate.logs.filter((line) => line.msg === 'request' && (line.status as number) >= 500)).toEqual([]);
  }, 600_000);
});
