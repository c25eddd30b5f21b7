import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { originalRequest, proofUrl } from '../../src/gateway/original-request.js';
import { compileRule, firstMatch, missingScopes, pathSegments, routeRule, routeRules, type RouteRule } from '../../src/gateway/rules.js';

const target = (path: string, method = 'GET', host = 'api.example.com') => ({ method, host, segments: pathSegments(path)! });
const matches = (rule: RouteRule, path: string, method = 'GET', host = 'api.example.com') => compileRule(rule).matches(target(path, method, host));

describe('route rules: paths', () => {
  it('matches an exact path only', () => {
    expect(matches({ path: '/health' }, '/health')).toBe(true);
    expect(matches({ path: '/health' }, '/health/')).toBe(false);
    expect(matches({ path: '/health' }, '/healthz')).toBe(false);
    expect(matches({ path: '/health' }, '/Health')).toBe(false);
  });

  it('matches a prefix (**) on segment boundaries: the path itself and below it', () => {
    const rule = { path: '/api/**' };
    for (const path of ['/api', '/api/', '/api/x', '/api/x/y']) expect(matches(rule, path), path).toBe(true);
    for (const path of ['/apix', '/ap', '/', '/other/api']) expect(matches(rule, path), path).toBe(false);
  });

  it('matches * as exactly one non-empty segment', () => {
    const rule = { path: '/users/*/photos' };
    expect(matches(rule, '/users/42/photos')).toBe(true);
    expect(matches(rule, '/users//photos')).toBe(false);
    expect(matches(rule, '/users/42/43/photos')).toBe(false);
  });

  it('compares decoded segments, and refuses paths a server could read differently', () => {
    expect(matches({ path: '/files/a b' }, '/files/a%20b')).toBe(true);
    for (const path of ['/api/../admin', '/api/%2e%2e/admin', '/api/%2E/x', '/api/a%2Fb', '/api/a%5cb', '/api/%zz', '/api/\u0000', 'api']) {
      expect(pathSegments(path), path).toBeUndefined();
    }
  });

  it('never lets a prefix rule match a path outside it, whatever the path (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z%.]{0,6}$/), { maxLength: 6 }), (parts) => {
        const path = `/${parts.join('/')}`;
        const segments = pathSegments(path);
        if (!segments) return;
        const matched = compileRule({ path: '/api/**' }).matches({ method: 'GET', host: 'h', segments });
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
    const rules = [{ path: '/api/public/**', public: true }, { path: '/api/**', scopes_all: ['read'] }].map(compileRule);
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

  it('grants exactly when every scopes_all and one scopes_any is held (property)', () => {
    const scope = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    fc.assert(
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
    expect(routeRules.safeParse([{ host: '*.example.com', path: '/api/**', methods: ['GET'], scopes_any: ['read'] }, { path: '/health', public: true }]).success).toBe(true);
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
    ]) {
      expect(routeRule.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('the original request', () => {
  const headers = (extra: Record<string, string>) => ({ host: 'tollgate:3002', ...extra });

  it("reads nginx's X-Original-* with Host, and they win over X-Forwarded-*", () => {
    const request = originalRequest(headers({ 'x-original-method': 'DELETE', 'x-original-uri': '/a/b?q=1', 'x-forwarded-uri': '/other', 'x-forwarded-method': 'GET', host: 'API.example.com' }), 'GET', '/gateway/check', '/gateway/check');
    expect(request).toEqual({ method: 'DELETE', scheme: 'http', host: 'api.example.com', path: '/a/b' });
  });

  it("reads Caddy's and Traefik's X-Forwarded-*", () => {
    const request = originalRequest(headers({ 'x-forwarded-method': 'post', 'x-forwarded-uri': '/x', 'x-forwarded-host': 'api.example.com', 'x-forwarded-proto': 'https' }), 'GET', '/gateway/check', '/gateway/check');
    expect(request).toEqual({ method: 'POST', scheme: 'https', host: 'api.example.com', path: '/x' });
    expect(proofUrl(request)).toBe('https://api.example.com/x');
    expect(proofUrl(request, 'https://public.example.com:8443/ignored')).toBe('https://public.example.com:8443/x');
  });

  it("reads Envoy's: the original method, and the original path after the check's", () => {
    expect(originalRequest(headers({ host: 'api.example.com' }), 'PUT', '/gateway/check/v1/items', '/gateway/check')).toEqual({ method: 'PUT', scheme: 'http', host: 'api.example.com', path: '/v1/items' });
  });

  it('refuses a check that does not say which request it is about', () => {
    expect(() => originalRequest(headers({}), 'GET', '/gateway/check', '/gateway/check')).toThrow(/X-Original-URI/);
  });
});
