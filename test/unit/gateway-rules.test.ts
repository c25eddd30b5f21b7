import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { originalRequest, proofUrl } from '../../src/gateway/original-request.js';
import { AmbiguousTarget, readPath, readTarget } from '../../src/http/request-path.js';
import { compileRule, firstMatch, missingScopes, requestTarget, routeRule, routeRules, type RouteRule } from '../../src/resource-servers/route-rules.js';
import { checkProperty } from '../helpers/property.js';

const target = (path: string, method = 'GET', host = 'api.example.com') => requestTarget(method, host, readPath(path));
/** Whether the rule matches the path as sent (caseSensitive) or in lower case. */
const matches = (rule: RouteRule, path: string, method = 'GET', host = 'api.example.com', caseSensitive = false) => {
  const compiled = compileRule(rule);
  return caseSensitive ? compiled.matches(target(path, method, host)) : compiled.matchesFolded(target(path, method, host));
};
/** The path's segments, or undefined where the path is refused. */
const segmentsOf = (path: string) => {
  try {
    return readPath(path);
  } catch (err) {
    if (err instanceof AmbiguousTarget) return undefined;
    throw err;
  }
};

describe('route rules: paths', () => {
  it('matches an exact path only', () => {
    expect(matches({ path: '/health' }, '/health')).toBe(true);
    expect(matches({ path: '/health' }, '/health/')).toBe(false);
    expect(matches({ path: '/health' }, '/healthz')).toBe(false);
    expect(matches({ path: '/health' }, '/Health', 'GET', 'api.example.com', true)).toBe(false);
  });

  it('compares paths without regard to ASCII case, unless the API tells them apart', () => {
    const rule = { path: '/a/Admin/**' };
    for (const path of ['/a/admin/x', '/A/ADMIN/x', '/a/aDmIn']) expect(matches(rule, path), path).toBe(true);
    expect(matches(rule, '/a/admin/x', 'GET', 'h', true)).toBe(false);
    expect(matches(rule, '/a/Admin/x', 'GET', 'h', true)).toBe(true);
    // Folding is String#toLowerCase, safe only because no path reaching it holds the Kelvin sign (a K in lower case).
    expect(segmentsOf('/\u212a')).toBeUndefined();
  });

  it('refuses a path whose case changes which rule decides, unless the API tells cases apart', () => {
    const rules = [
      { path: '/users/me', scopes_all: ['profile'] },
      { path: '/users/*', scopes_all: ['admin'] },
    ].map((rule) => compileRule(rule));
    // A case-sensitive API routes /users/ME to /users/:id (admin); a case-insensitive one to /users/me.
    for (const path of ['/users/ME', '/Users/me']) expect(() => firstMatch(rules, target(path)), path).toThrow(AmbiguousTarget);
    expect(firstMatch(rules, target('/users/ME'), { caseSensitive: true })).toEqual({ path: '/users/*', scopes_all: ['admin'] });
    // Where both readings meet the same rule, the case does not matter.
    expect(firstMatch(rules, target('/users/me'))).toEqual({ path: '/users/me', scopes_all: ['profile'] });
    expect(firstMatch(rules, target('/users/Alice'))).toEqual({ path: '/users/*', scopes_all: ['admin'] });
    // A rule read in lower case only, with no rule for the path as sent, is a different answer too.
    expect(() => firstMatch([compileRule({ path: '/a/Admin/**' })], target('/a/admin/x'))).toThrow(/case/);
    expect(firstMatch([compileRule({ path: '/a/Admin/**' })], target('/a/Admin/X'))?.path).toBe('/a/Admin/**');
  });

  it('matches a prefix (**) on segment boundaries: the path itself and below it', () => {
    const rule = { path: '/api/**' };
    for (const path of ['/api', '/api/', '/api/x', '/api/x/y']) expect(matches(rule, path), path).toBe(true);
    for (const path of ['/apix', '/ap', '/', '/other/api']) expect(matches(rule, path), path).toBe(false);
  });

  it('matches * as exactly one non-empty segment', () => {
    const rule = { path: '/users/*/photos' };
    expect(matches(rule, '/users/42/photos')).toBe(true);
    expect(segmentsOf('/users//photos')).toBeUndefined();
    expect(matches(rule, '/users/42/43/photos')).toBe(false);
  });

  it('compares decoded segments, and refuses paths a server could read differently', () => {
    expect(matches({ path: '/files/a%20b' }, '/files/a%20b')).toBe(true);
    for (const path of ['/api/../admin', '/api/%2e%2e/admin', '/api/%2E/x', '/api/a%2Fb', '/api/a%5cb', '/api/%zz', '/api/\u0000', 'api']) {
      expect(segmentsOf(path), path).toBeUndefined();
    }
  });

  it('refuses each target that a common server reads as another path, saying why', () => {
    const refused: [string, RegExp][] = [
      ['/public/..;/a/admin/x', /;/],
      ['/public;jsessionid=1/x', /;/],
      ['/a//admin/x', /empty segment/],
      ['//evil.example/steal', /origin-form/],
      ['http://c.example/b/x', /origin-form/],
      ['/public/x#/../../a/admin/x', /#/],
      ['/a/admin./x', /dot/],
      ['/a/admin../x', /dot/],
      ['/a/admin%20/x', /space/],
      ['/a/./admin', /dot segment/],
      ['/a/%2e%2E/admin', /encoded/],
      ['/a%2fadmin', /encoded/],
      ['/a%5Cadmin', /encoded/],
      ['/a%3badmin', /encoded/],
      ['/a%252fadmin', /encoded/],
      ['/a\\admin', /backslash/],
      ['/a/adm\u0130n', /non-ASCII/],
      ['/a/caf%C3%A9', /non-ASCII/],
      ['/a/%0a', /control/],
      ['/a/ b', /percent-encoded/],
      ['/a/%g1', /broken/],
      // Routers match the raw path: /d%6Fcs/admin is not /docs/admin to Express.
      ['/d%6Fcs/admin', /%6F, an escape of o/],
      ['/files/%41', /escape of A/],
      ['/a%3Ab', /escape of :/],
      ['/a%40b', /escape of @/],
      ['/a%7e', /escape of ~/],
      ['/a%2Bb', /escape of \+/],
      ['/a%3Db', /escape of =/],
    ];
    for (const [target, why] of refused) expect(() => readTarget(target), target).toThrow(why);
  });

  it('reads plain targets: query apart, one trailing slash, escapes of printable ASCII', () => {
    expect(readTarget('/api/items/7?page=2&x=/../')).toEqual({ path: '/api/items/7', segments: ['', 'api', 'items', '7'] });
    expect(readTarget('/api/')).toEqual({ path: '/api/', segments: ['', 'api', ''] });
    expect(readTarget('/')).toEqual({ path: '/', segments: ['', ''] });
    expect(readTarget("/a%20%5B%7C%3F/~x-_.y/!$&'()*+,=:@")).toEqual({
      path: "/a%20%5B%7C%3F/~x-_.y/!$&'()*+,=:@",
      segments: ['', 'a [|?', '~x-_.y', "!$&'()*+,=:@"],
    });
  });

  it('never lets a prefix rule match a path outside it, whatever the path (property)', async () => {
    await checkProperty(
      fc.property(fc.array(fc.stringMatching(/^[a-z%.]{0,6}$/), { maxLength: 6 }), (parts) => {
        const path = `/${parts.join('/')}`;
        const segments = segmentsOf(path);
        if (!segments) return;
        const matched = compileRule({ path: '/api/**' }).matches(requestTarget('GET', 'h', segments));
        expect(matched).toBe(segments[1] === 'api');
      }),
    );
  });
});

describe('route rules: hosts and methods', () => {
  it('matches a host in any case and on any port, unless the rule names one', () => {
    expect(matches({ host: 'api.example.com', path: '/**' }, '/x', 'GET', 'api.example.com:8443')).toBe(true);
    expect(matches({ host: 'API.example.com', path: '/**' }, '/x', 'GET', 'api.example.com')).toBe(true);
    expect(matches({ host: 'api.example.com:443', path: '/**' }, '/x', 'GET', 'api.example.com:8443')).toBe(false);
    expect(matches({ host: 'api.example.com', path: '/**' }, '/x', 'GET', 'evil.com')).toBe(false);
  });

  it('matches subdomains with *., not the domain itself nor look-alikes', () => {
    const rule = { host: '*.example.com', path: '/**' };
    expect(matches(rule, '/', 'GET', 'a.example.com')).toBe(true);
    expect(matches(rule, '/', 'GET', 'example.com')).toBe(false);
    expect(matches(rule, '/', 'GET', 'badexample.com')).toBe(false);
  });

  it('matches only the listed methods', () => {
    const rule = { path: '/x', methods: ['GET', 'HEAD'] };
    expect(matches(rule, '/x', 'GET')).toBe(true);
    expect(matches(rule, '/x', 'DELETE')).toBe(false);
  });
});

describe('route rules: order and scopes', () => {
  it('lets the first matching rule decide, and no rule means no match', () => {
    const rules = [
      { path: '/api/public/**', public: true },
      { path: '/api/**', scopes_all: ['read'] },
    ].map((rule) => compileRule(rule));
    expect(firstMatch(rules, target('/api/public/x'))).toEqual({ path: '/api/public/**', public: true });
    expect(firstMatch(rules, target('/api/private'))).toEqual({ path: '/api/**', scopes_all: ['read'] });
    expect(firstMatch(rules, target('/other'))).toBeUndefined();
  });

  it('names what is missing: all of scopes_all, or the choices of scopes_any', () => {
    const rule = { path: '/', scopes_all: ['a', 'b'], scopes_any: ['c', 'd'] };
    expect(missingScopes(rule, new Set(['a']))).toBe('a b');
    expect(missingScopes(rule, new Set(['a', 'b']))).toBe('c d');
    expect(missingScopes(rule, new Set(['a', 'b', 'd']))).toBeUndefined();
    expect(missingScopes({ path: '/' }, new Set())).toBeUndefined();
  });

  it('grants exactly when every scopes_all and one scopes_any is held (property)', async () => {
    const scope = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    await checkProperty(
      fc.property(fc.uniqueArray(scope, { minLength: 1 }), fc.uniqueArray(scope, { minLength: 1 }), fc.uniqueArray(scope), (all, any, granted) => {
        const held = new Set(granted);
        const allowed = all.every((s) => held.has(s)) && any.some((s) => held.has(s));
        expect(missingScopes({ path: '/', scopes_all: all, scopes_any: any }, held) === undefined).toBe(allowed);
      }),
    );
  });
});

describe('route rules: the schema', () => {
  it('accepts the documented shapes', () => {
    expect(
      routeRules.safeParse([
        { host: '*.example.com', path: '/api/**', methods: ['GET'], scopes_any: ['read'] },
        { path: '/health', public: true },
      ]).success,
    ).toBe(true);
  });

  it('refuses what could not be matched as meant', () => {
    for (const bad of [
      { path: 'api' },
      { path: '/api/**/x' },
      { path: '/api/../x' },
      { path: '/api?x=1' },
      { path: '/x', methods: ['TRACE'] },
      { path: '/x', public: true, scopes_all: ['a'] },
      { path: '/x', scopes_all: ['a b'] },
      { path: '/x', host: 'a b' },
      { path: '/x', extra: true },
      // Paths no request could meet, since requests are read this way (and refused otherwise).
      { path: '/a;b' },
      { path: '/x.' },
      { path: '/a//b' },
      { path: '/a%2Fb' },
      { path: '/files/%41' },
    ]) {
      expect(routeRule.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('the original request', () => {
  const headers = (extra: Record<string, string>) => ({ host: 'tollgate:3002', ...extra });

  it("reads nginx's X-Original-* with Host, and they win over X-Forwarded-*", () => {
    const request = originalRequest(
      headers({
        'x-original-method': 'DELETE',
        'x-original-uri': '/a/b?q=1',
        'x-forwarded-uri': '/other',
        'x-forwarded-method': 'GET',
        host: 'API.example.com',
      }),
      'GET',
      '/gateway/check',
      '/gateway/check',
    );
    expect(request).toEqual({ method: 'DELETE', scheme: 'http', host: 'api.example.com', path: '/a/b', segments: ['', 'a', 'b'] });
  });

  it("reads Caddy's and Traefik's X-Forwarded-*", () => {
    const request = originalRequest(
      headers({ 'x-forwarded-method': 'post', 'x-forwarded-uri': '/x', 'x-forwarded-host': 'api.example.com', 'x-forwarded-proto': 'https' }),
      'GET',
      '/gateway/check',
      '/gateway/check',
    );
    expect(request).toEqual({ method: 'POST', scheme: 'https', host: 'api.example.com', path: '/x', segments: ['', 'x'] });
    expect(proofUrl(request)).toBe('https://api.example.com/x');
    expect(proofUrl(request, 'https://public.example.com:8443/ignored')).toBe('https://public.example.com:8443/x');
  });

  it("reads Envoy's: the original method, and the original path after the check's", () => {
    expect(originalRequest(headers({ host: 'api.example.com' }), 'PUT', '/gateway/check/v1/items', '/gateway/check')).toEqual({
      method: 'PUT',
      scheme: 'http',
      host: 'api.example.com',
      path: '/v1/items',
      segments: ['', 'v1', 'items'],
    });
  });

  it('refuses a check that does not say which request it is about', () => {
    expect(() => originalRequest(headers({}), 'GET', '/gateway/check', '/gateway/check')).toThrow(/X-Original-URI/);
    // A query on the check's own path is not an original target (Envoy's follows a /).
    expect(() => originalRequest(headers({}), 'GET', '/gateway/check?x', '/gateway/check')).toThrow(/X-Original-URI/);
  });

  it('refuses an ambiguous target as invalid_request (400), whichever convention carries it', () => {
    for (const extra of [{ 'x-original-uri': '/a//b' }, { 'x-forwarded-uri': '/a;b' }, { 'x-original-uri': '//evil.example/steal' }] as Record<
      string,
      string
    >[]) {
      expect(() => originalRequest(headers(extra), 'GET', '/gateway/check', '/gateway/check')).toThrow(
        expect.objectContaining({ status: 400, error: 'invalid_request' }),
      );
    }
    expect(() => originalRequest(headers({}), 'GET', '/gateway/check/a/../b', '/gateway/check')).toThrow(/dot segment/);
  });

  it('builds htu from the origin and the path, never reading a host out of the path', () => {
    const request = { method: 'GET', scheme: 'http' as const, host: 'api.example.com', path: '//evil.example/steal', segments: [] };
    expect(proofUrl(request)).toBeUndefined();
    expect(proofUrl({ ...request, path: '/steal' }, 'https://public.example.com')).toBe('https://public.example.com/steal');
    expect(proofUrl({ ...request, path: '/@evil.example/x' })).toBe('http://api.example.com/@evil.example/x');
  });
});
