// What a real server serves is what the endpoint registry (src/http/endpoints.ts) declares: each
// declared path is served and logged and counted as itself, discovery advertises declared paths
// only, and no other route of the provider is reachable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIGURABLE_PROVIDER_ROUTES, ENDPOINTS, type EndpointEntry } from '../../src/http/endpoints.js';
import { metricsText, metricValue } from '../helpers/ops.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

/** The paths oidc-provider serves its routes at unless told otherwise. */
const PROVIDER_DEFAULT_PATHS = [
  '/backchannel',
  '/device',
  '/challenge',
  '/device/auth',
  '/session/end',
  '/token/introspection',
  '/request',
  '/reg',
  '/token/revocation',
  '/me',
  '/credential',
];

const issuerEntries = (Object.values(ENDPOINTS) as EndpointEntry[]).filter((entry) => entry.listener === 'issuer');

let tollgate: TestTollgate;
beforeAll(async () => {
  tollgate = await startTollgate();
});
afterAll(() => tollgate?.close());

/** The request log line of the answer with this request id. */
function logLineOf(requestId: string) {
  return tollgate.logs.find((line) => line.msg === 'request' && line.requestId === requestId);
}

describe('the endpoints a server serves', () => {
  it.each(issuerEntries.map((entry) => [entry.path, entry] as const))('serves %s, logged and counted by its path', async (path, entry) => {
    const method = entry.methods?.[0] ?? 'GET';
    const requestId = `endpoint-${path.replace(/\W/g, '-')}`;
    const response = await fetch(`${tollgate.url}${path}`, { method, headers: { 'x-request-id': requestId } });
    await response.arrayBuffer();
    // Whatever the answer says of this request (no credentials, no parameters), it is the endpoint's, not "no such endpoint".
    expect(response.status, `${method} ${path}`).not.toBe(404);
    if (entry.methods) expect((await fetch(`${tollgate.url}${path}`, { method: 'PATCH' })).headers.get('allow')).toBe(entry.methods.join(', '));
    await expect.poll(() => logLineOf(requestId)?.path).toBe(path);
    expect(metricValue(await metricsText(tollgate.url), 'tollgate_http_requests_total', { endpoint: path, method })).toBeGreaterThan(0);
  });

  it('advertises in discovery the declared endpoints, at their declared paths, and no other', async () => {
    const metadata = (await (await fetch(`${tollgate.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    const advertised = Object.entries(metadata).filter(([key]) => key.endsWith('_endpoint') || key.endsWith('_uri'));
    const declared = issuerEntries.flatMap((entry) => (entry.metadata ? [[entry.metadata, `${tollgate.url}${entry.path}`]] : []));
    expect(Object.fromEntries(advertised)).toEqual(Object.fromEntries(declared));
  });

  it('lets no route of the provider be reached that is not declared', async () => {
    const { provider } = tollgate.running.app;
    const declared = new Set<string>(issuerEntries.map((entry) => entry.path));
    // The routes the provider has with Tollgate's configuration (a disabled feature has none), and its default paths.
    const routes = CONFIGURABLE_PROVIDER_ROUTES.flatMap((route) => {
      try {
        return [provider.pathFor(route, { mountPath: '' })];
      } catch {
        return [];
      }
    });
    expect(routes.length).toBeGreaterThan(0);
    const undeclared = [...new Set([...routes, ...PROVIDER_DEFAULT_PATHS])].filter((path) => !declared.has(path));
    expect(undeclared.length).toBeGreaterThan(0);
    for (const path of undeclared) {
      for (const method of ['GET', 'POST']) expect((await fetch(`${tollgate.url}${path}`, { method })).status, `${method} ${path}`).toBe(404);
    }
  });
});
