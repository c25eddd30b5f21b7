// The endpoint registry (src/http/endpoints.ts) and what is derived from it agree, and no path is
// served from outside it where a reader of the source could add one.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig, variables } from '../../src/config/config.js';
import { endpointTable, type Handlers } from '../../src/http/endpoint-table.js';
import {
  ADVERTISED_ENDPOINTS,
  CLIENT_ENDPOINT_OF_ROUTE,
  ENDPOINT_BUDGETS,
  ENDPOINTS,
  type EndpointEntry,
  isServedProviderPath,
  knownPaths,
  PROVIDER_ROUTES,
  UNCACHED,
  wellKnownPaths,
} from '../../src/http/endpoints.js';
import type { FormHandler, HeaderHandler } from '../../src/http/pipeline.js';
import { LIMITS, type RateLimitError, RateLimits } from '../../src/rate-limit/limits.js';
import { PROJECT_ROOT } from '../../src/project-root.js';

const entries = Object.entries(ENDPOINTS) as [keyof typeof ENDPOINTS, EndpointEntry][];
const form: FormHandler = async () => undefined;
const headers: HeaderHandler = async () => ({ body: '' });
const issuerHandlers = { token: form, introspect: form, revoke: form } satisfies Handlers<'issuer'>;
const settings = { jwksCacheSeconds: 123 };

describe('the endpoint registry', () => {
  it('declares each path once, and each listener knows exactly its own paths as labels', () => {
    const paths = entries.map(([, entry]) => entry.path);
    expect(new Set(paths).size).toBe(paths.length);
    for (const listener of ['issuer', 'gateway'] as const) {
      expect([...knownPaths(listener)].sort()).toEqual(
        entries
          .filter(([, entry]) => entry.listener === listener)
          .map(([, entry]) => entry.path)
          .sort(),
      );
    }
    expect(wellKnownPaths('issuer')).toEqual([ENDPOINTS.authorizationServerMetadata.path]);
  });

  it('gives the provider a route for each provider endpoint but discovery, whose path the provider fixes, and lets it serve exactly those', () => {
    expect(PROVIDER_ROUTES).toMatchObject({ authorization: '/auth', token: '/token', jwks: '/jwks', introspection: '/introspect', revocation: '/revoke' });
    for (const [, entry] of entries) expect(isServedProviderPath(entry.path), entry.path).toBe(entry.provider !== undefined);
    expect(isServedProviderPath('/auth/abc-DEF_123')).toBe(true);
    for (const path of ['/auth/', '/auth/a/b', `/auth/${'a'.repeat(65)}`, '/me', '/session/end', '/token/introspection', '/reg'])
      expect(isServedProviderPath(path), path).toBe(false);
    expect(Object.fromEntries(CLIENT_ENDPOINT_OF_ROUTE)).toMatchObject({ token: 'token', introspection: 'introspect', revocation: 'revoke' });
    for (const [id, entry] of entries) {
      if (entry.budgets?.client !== undefined) expect(CLIENT_ENDPOINT_OF_ROUTE.get(entry.provider ?? ''), id).toBe(id);
      if (entry.metadata) expect(ADVERTISED_ENDPOINTS, id).toContain(entry.metadata);
    }
  });

  it('names every endpoint budget among the rate limits, each set by its own variable', async () => {
    expect(ENDPOINT_BUDGETS.map(({ name, variable, size }) => [name, variable, size])).toEqual(
      expect.arrayContaining([
        ['token_client', 'RATE_LIMIT_TOKEN_PER_CLIENT', 600],
        ['token_ip', 'RATE_LIMIT_TOKEN_PER_IP', 1200],
        ['introspect_client', 'RATE_LIMIT_INTROSPECT_PER_CLIENT', 6000],
        ['introspect_ip', 'RATE_LIMIT_INTROSPECT_PER_IP', 12000],
        ['revoke_client', 'RATE_LIMIT_REVOKE_PER_CLIENT', 600],
        ['revoke_ip', 'RATE_LIMIT_REVOKE_PER_IP', 1200],
        ['gateway_ip', 'RATE_LIMIT_GATEWAY_PER_IP', 600_000],
      ]),
    );
    expect(ENDPOINT_BUDGETS.map(({ description }) => description)).toContain("`GATEWAY_PORT`'s `/gateway/check` per calling address (a gateway).");
    for (const { name, variable } of ENDPOINT_BUDGETS) {
      expect(LIMITS).toContain(name);
      expect(variables).toHaveProperty(variable);
      // A budget of one: the second request is refused, under the budget's own name.
      const limits = new RateLimits(loadConfig({ RATE_LIMIT_ENABLED: 'true', [variable]: '1' }), pino({ level: 'silent' }));
      await limits.consume(name, 'key');
      await expect(limits.consume(name, 'key'), name).rejects.toEqual(expect.objectContaining({ limit: name } satisfies Partial<RateLimitError>));
    }
  });

  it("derives each listener's pipeline table: methods, headers, budgets and handlers from the entries", () => {
    const issuer = endpointTable('issuer', { handlers: issuerHandlers, settings });
    expect(Object.keys(issuer).sort()).toEqual([...knownPaths('issuer')].filter((path) => path !== ENDPOINTS.metrics.path).sort());
    expect(Object.keys(endpointTable('issuer', { handlers: issuerHandlers, settings, served: ['metrics'] }))).toContain(ENDPOINTS.metrics.path);
    expect(issuer['/token']).toEqual({
      id: 'token',
      methods: ['POST', 'OPTIONS'],
      addressBudget: 'token_ip',
      authenticatesClients: true,
      handler: form,
      prefix: undefined,
      headers: UNCACHED,
    });
    expect(issuer['/jwks']).toMatchObject({ id: 'jwks', authenticatesClients: false, headers: { 'Cache-Control': 'public, max-age=123' } });
    expect(issuer['/jwks']?.addressBudget).toBeUndefined();
    expect(endpointTable('gateway', { handlers: { gateway: headers }, settings })).toEqual({
      '/gateway/check': {
        id: 'gateway',
        methods: undefined,
        addressBudget: 'gateway_ip',
        authenticatesClients: false,
        answer: headers,
        prefix: true,
        headers: undefined,
      },
    });
  });

  it('makes a missing or misspelt handler a compile error (npm run typecheck)', () => {
    // @ts-expect-error the revocation endpoint declares a handler of its own
    const missing: Handlers<'issuer'> = { token: form, introspect: form };
    // @ts-expect-error no endpoint is called "introspection" (the provider's route is; the endpoint is "introspect")
    const misspelt: Handlers<'issuer'> = { ...issuerHandlers, introspection: form };
    // @ts-expect-error the JWKS endpoint has no handler of its own
    const extra: Handlers<'issuer'> = { ...issuerHandlers, jwks: form };
    // @ts-expect-error an endpoint id that does not exist
    void ENDPOINTS.userinfo;
    expect([missing, misspelt, extra]).toHaveLength(3);
  });
});

describe('paths outside the registry', () => {
  it('are never compared with a request path in the source: a served path is declared in src/http/endpoints.ts or a router', async () => {
    const root = fileURLToPath(PROJECT_ROOT);
    const registry = join(root, 'src/http/endpoints.ts');
    const offenders: string[] = [];
    for (const file of await sourceFiles(join(root, 'src'))) {
      if (file === registry) continue;
      for (const { line, text } of handServedPaths(await readFile(file, 'utf8'))) offenders.push(`${relative(root, file)}:${line}: ${text}`);
    }
    expect(offenders).toEqual([]);
  });

  it('are caught by the scan: a path served by hand, and a registry path spelt out again', () => {
    const source = [
      "  if (!path.startsWith('/')) throw new AmbiguousTarget('the path does not start with /');",
      "  if (ctx.path === '/userinfo') return userinfo(ctx);",
      '  if (req.url?.startsWith(`/par`)) return pushed(req);',
      "  const revocation = '/revoke';",
    ].join('\n');
    expect(handServedPaths(source).map(({ line }) => line)).toEqual([2, 3, 4]);
  });
});

/** `path === '/x'`, `url !== '/x'`, `path.startsWith('/x')`: a path served or special-cased by hand. */
const PATH_COMPARISON = /\b(?:path|url|pathname)\b[^;\n]*?(?:[!=]==\s*|startsWith\(\s*)['`]\/[\w.]/;
/** A registry path spelt out again: a second declaration, which can drift from the entry. */
const DECLARED = entries.map(([, entry]) => `'${entry.path}'`);

function handServedPaths(source: string): { line: number; text: string }[] {
  return source
    .split('\n')
    .map((text, index) => ({ line: index + 1, text: text.trim() }))
    .filter(({ text }) => PATH_COMPARISON.test(text) || DECLARED.some((path) => text.includes(path)));
}

async function sourceFiles(dir: string): Promise<string[]> {
  const found = await readdir(dir, { withFileTypes: true, recursive: true });
  return found
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !join(entry.parentPath, entry.name).includes('/db/generated/'))
    .map((entry) => join(entry.parentPath, entry.name));
}
