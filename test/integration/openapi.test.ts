// The admin API's OpenAPI document: valid OpenAPI 3.1, naming every route the server runs, and true of
// every answer: each route is called, in success and failure, and each answer's status must be
// documented and its body must match the documented schema.
import type Router from '@koa/router';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, adminToken, clientCredentialsToken, registerClient, type HttpResult } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, registerAppClient, signInForTokens } from '../helpers/users.js';

interface Operation {
  responses: Record<string, { content?: { 'application/json': { schema: Record<string, unknown> } } }>;
}
interface Document {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

let tollgate: TestTollgate;
let token: string;
let document: Document;
/** Every (method, documented path, status) an answer was checked for. */
const answered = new Set<string>();
const ajv = new Ajv2020({ allErrors: true });
addFormats.default(ajv);

beforeAll(async () => {
  tollgate = await startTollgate();
  token = await adminToken(tollgate.url);
  const served = await admin(tollgate.url, 'GET', '/openapi.json', undefined, token);
  expect(served.status).toBe(200);
  document = served.body as unknown as Document;
});
afterAll(() => tollgate?.close());

/** The documented path a concrete path matches, e.g. /admin/clients/abc → /admin/clients/{id}. */
function documentedPath(path: string): string {
  const bare = `/admin${path.split('?')[0]}`;
  const found = Object.keys(document.paths).find((pattern) => new RegExp(`^${pattern.replace(/\{\w+\}/g, '[^/]+')}$`).test(bare));
  if (!found) throw new Error(`${bare} is not in the document`);
  return found;
}

/** Asserts that the answer's status is documented for the route and its body matches the documented schema. */
function conforms(method: string, path: string, response: HttpResult): HttpResult {
  const pattern = documentedPath(path);
  const operation = document.paths[pattern]![method.toLowerCase()];
  expect(operation, `${method} ${pattern} is documented`).toBeDefined();
  const documented = operation!.responses[String(response.status)];
  expect(documented, `${method} ${pattern} documents ${response.status} (${JSON.stringify(response.body)})`).toBeDefined();
  const schema = documented!.content?.['application/json'].schema;
  if (!schema) {
    expect(response.body, `${method} ${pattern} ${response.status} has no body`).toBeUndefined();
  } else {
    // The document's references, resolved against its components as $defs of the one schema.
    const resolvable = JSON.parse(JSON.stringify({ ...schema, $defs: document.components.schemas }).replaceAll('#/components/schemas/', '#/$defs/'));
    const validate = ajv.compile(resolvable);
    expect(validate(response.body), `${method} ${pattern} ${response.status}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(response.body)}`).toBe(
      true,
    );
  }
  answered.add(`${method.toLowerCase()} ${pattern} ${response.status}`);
  return response;
}

/** Calls the admin API and checks the answer against the document. */
async function call(method: string, path: string, body?: unknown, bearer = token): Promise<HttpResult> {
  return conforms(method, path, await admin(tollgate.url, method, path, body, bearer));
}

/** The (method, path) of every route the running server's admin routers serve, in the document's notation. */
function servedRoutes(): string[] {
  const routers = tollgate.running.app.koa.middleware
    .map((fn) => (fn as { router?: Router }).router)
    .filter((router): router is Router => router !== undefined);
  return routers.flatMap((router) =>
    router.stack
      .filter((layer) => layer.methods.length > 0)
      .flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m.toLowerCase()} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`))
      .filter((route) => route.includes(' /admin')),
  );
}

const operations = () => Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));

describe('the document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('describes exactly the routes the server runs', () => {
    const served = servedRoutes();
    expect(served).toContain('get /admin/clients/{id}');
    expect(new Set(operations())).toEqual(new Set(served));
  });

  it('says where the API is and how to get the admin token', () => {
    expect(document.servers).toEqual([{ url: tollgate.url }]);
    expect(document.components.securitySchemes.adminToken).toMatchObject({
      type: 'oauth2',
      flows: { clientCredentials: { tokenUrl: `${tollgate.url}/token`, scopes: { admin: expect.any(String) } } },
    });
  });

  it('is served behind the admin token, like every /admin route', async () => {
    const anonymous = await fetch(`${tollgate.url}/admin/openapi.json`);
    expect(anonymous.status).toBe(401);
    expect((await call('GET', '/openapi.json')).status).toBe(200);
  });
});

describe('every answer matches the document', () => {
  it('clients: create, list, get, change, rotate, delete, and their failures', async () => {
    const created = await call('POST', '/clients', {
      client_id: 'openapi-billing',
      client_name: 'Billing',
      scope: 'read write',
      default_scope: 'read',
      access_token_ttl: 600,
    });
    expect(created.status).toBe(201);
    expect(created.body.client_secret).toEqual(expect.any(String));
    const app = await call('POST', '/clients', {
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      redirect_uris: ['https://app.example/cb'],
    });
    expect(app.status).toBe(201);
    expect(app.body.client_secret).toBeUndefined();
    expect((await call('POST', '/clients', { client_id: 'openapi-billing' })).status).toBe(409);
    expect((await call('POST', '/clients', { scope: 42 })).status).toBe(400);

    const page = await call('GET', '/clients?limit=1');
    expect(page.status).toBe(200);
    expect(page.body.next_cursor).toEqual(expect.any(String));
    expect((await call('GET', '/clients?limit=0')).status).toBe(400);

    expect((await call('GET', '/clients/openapi-billing')).status).toBe(200);
    expect((await call('GET', '/clients/nobody')).status).toBe(404);

    expect((await call('PATCH', '/clients/openapi-billing', { client_name: null, access_token_ttl: null, disabled: false })).status).toBe(200);
    expect((await call('PATCH', '/clients/openapi-billing', { token_endpoint_auth_method: 'none' })).status).toBe(409);
    expect((await call('PATCH', '/clients/openapi-billing', { colour: 'red' })).status).toBe(400);
    expect((await call('PATCH', '/clients/nobody', {})).status).toBe(404);

    const rotated = await call('POST', '/clients/openapi-billing/secret', { overlap_seconds: 3600 });
    expect(rotated.status).toBe(200);
    expect(rotated.body.previous_secret_expires_at).toEqual(expect.any(String));
    expect((await call('POST', `/clients/${app.body.client_id}/secret`, {})).status).toBe(409);
    expect((await call('POST', '/clients/openapi-billing/secret', { overlap_seconds: -1 })).status).toBe(400);
    expect((await call('POST', '/clients/nobody/secret', {})).status).toBe(404);

    expect((await call('DELETE', '/clients/openapi-billing')).status).toBe(204);
    expect((await call('DELETE', '/clients/openapi-billing')).status).toBe(404);
  });

  it('users and consents: create, list, get, change, delete, and their failures', async () => {
    const created = await call('POST', '/users', { username: 'openapi-ada', email: 'ada@example.com', password: 'correct horse battery staple' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await call('POST', '/users', { username: 'openapi-ada', password: 'correct horse battery staple' })).status).toBe(409);
    expect((await call('POST', '/users', { username: 'openapi-bob' })).status).toBe(400);

    expect((await call('GET', '/users?limit=1')).status).toBe(200);
    expect((await call('GET', '/users?cursor=nope')).status).toBe(400);
    expect((await call('GET', `/users/${id}`)).status).toBe(200);
    expect((await call('GET', '/users/ADA%40example.com')).body.id).toBe(id);
    expect((await call('GET', '/users/00000000-0000-0000-0000-000000000000')).status).toBe(404);

    const other = await createUser(tollgate.url, { username: 'openapi-grace' });
    expect((await call('PATCH', `/users/${id}`, { email: null, disabled: false })).status).toBe(200);
    expect((await call('PATCH', `/users/${id}`, { username: other.username })).status).toBe(409);
    expect((await call('PATCH', `/users/${id}`, { password: 'short' })).status).toBe(400);
    expect((await call('PATCH', '/users/00000000-0000-0000-0000-000000000000', {})).status).toBe(404);

    const client = await registerAppClient(tollgate.url);
    await signInForTokens(tollgate.url, { client, user: other });
    const consents = await call('GET', `/users/${other.id}/consents`);
    expect(consents.status).toBe(200);
    expect(consents.body.consents).toHaveLength(1);
    expect((await call('GET', '/users/00000000-0000-0000-0000-000000000000/consents')).status).toBe(404);
    expect((await call('DELETE', `/users/${other.id}/consents/${client.client_id}`)).status).toBe(204);
    expect((await call('DELETE', `/users/${other.id}/consents/${client.client_id}`)).status).toBe(404);

    expect((await call('DELETE', `/users/${id}`)).status).toBe(204);
    expect((await call('DELETE', `/users/${id}`)).status).toBe(404);
  });

  it('resource servers: create, list, get, change, their gateway route rules, delete, and their failures', async () => {
    const created = await call('POST', '/resource-servers', {
      identifier: 'https://openapi.example/api',
      name: 'API',
      scopes: ['read'],
      access_token_format: 'jwt',
      access_token_ttl: 60,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await call('POST', '/resource-servers', { identifier: 'https://openapi.example/api', name: 'Again' })).status).toBe(409);
    expect((await call('POST', '/resource-servers', { identifier: 'relative', name: 'x' })).status).toBe(400);
    expect((await call('GET', '/resource-servers?limit=1')).status).toBe(200);
    expect((await call('GET', '/resource-servers?cursor=nope')).status).toBe(400);
    expect((await call('GET', `/resource-servers/${id}`)).status).toBe(200);
    expect((await call('GET', '/resource-servers/00000000-0000-0000-0000-000000000000')).status).toBe(404);
    expect((await call('PATCH', `/resource-servers/${id}`, { access_token_ttl: null, signing_alg: 'ES256' })).status).toBe(200);
    expect((await call('PATCH', `/resource-servers/${id}`, { signing_alg: 'none' })).status).toBe(400);
    expect((await call('PATCH', '/resource-servers/00000000-0000-0000-0000-000000000000', {})).status).toBe(404);
    expect(
      (
        await call('PUT', `/resource-servers/${id}/routes`, {
          routes: [
            { path: '/api/**', methods: ['GET'], scopes_any: ['read'] },
            { path: '/health', public: true },
          ],
        })
      ).status,
    ).toBe(200);
    expect((await call('PUT', `/resource-servers/${id}/routes`, { routes: [{ path: 'api' }] })).status).toBe(400);
    expect((await call('PUT', '/resource-servers/00000000-0000-0000-0000-000000000000/routes', { routes: [] })).status).toBe(404);
    expect((await call('GET', `/resource-servers/${id}/routes`)).status).toBe(200);
    expect((await call('GET', '/resource-servers/00000000-0000-0000-0000-000000000000/routes')).status).toBe(404);
    expect((await call('DELETE', `/resource-servers/${id}`)).status).toBe(204);
    expect((await call('DELETE', `/resource-servers/${id}`)).status).toBe(404);
  });

  it('the audit trail: pages of events, filters, and bad queries', async () => {
    const events = await call('GET', '/audit?limit=2');
    expect(events.status).toBe(200);
    expect(events.body.next_cursor).toEqual(expect.any(String));
    expect((await call('GET', '/audit?type=client.created,user.created&outcome=failure&since=2020-01-01T00:00:00Z')).status).toBe(200);
    expect((await call('GET', '/audit?since=yesterday')).status).toBe(400);
    expect((await call('GET', '/audit?colour=red')).status).toBe(400);
    expect((await call('POST', '/audit/prune', { older_than_days: 36500 })).body).toEqual({ deleted: 0 });
    expect((await call('POST', '/audit/prune', { older_than_days: 0 })).status).toBe(400);
  });

  it('the keys: a list, a rotation, and a second rotation while the first is under way', async () => {
    expect((await call('GET', '/keys')).status).toBe(200);
    expect((await call('POST', '/keys/rotate')).status).toBe(201);
    expect((await call('POST', '/keys/rotate')).status).toBe(409);
  });

  it('bodies that are not JSON, or too large', async () => {
    const post = (body: string, contentType: string) =>
      fetch(`${tollgate.url}/admin/clients`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body }).then(
        async (r) => ({
          status: r.status,
          headers: r.headers,
          body: (await r.json()) as Record<string, unknown>,
        }),
      );
    expect(conforms('POST', '/clients', await post('client_name=x', 'application/x-www-form-urlencoded')).status).toBe(415);
    expect(conforms('POST', '/clients', await post(JSON.stringify({ client_name: 'x'.repeat(20_000) }), 'application/json')).status).toBe(413);
  });

  it('every route refuses a missing token (401) and a token without scope admin (403)', async () => {
    const outsider = await registerClient(tollgate.url, { scope: 'read' });
    const weak = (await clientCredentialsToken(tollgate.url, outsider.client_id, outsider.client_secret, 'read')).body.access_token as string;
    for (const [pattern, item] of Object.entries(document.paths)) {
      const path = pattern.replace(/^\/admin/, '').replace(/\{\w+\}/g, 'x');
      for (const method of Object.keys(item).map((m) => m.toUpperCase())) {
        const anonymous = await fetch(`${tollgate.url}/admin${path}`, { method }).then(async (r) => ({
          status: r.status,
          headers: r.headers,
          body: (await r.json()) as Record<string, unknown>,
        }));
        expect(conforms(method, path, anonymous).status).toBe(401);
        expect((await call(method, path, undefined, weak)).status).toBe(403);
      }
    }
  });

  it('every route was answered its success', () => {
    for (const [pattern, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const success = Object.keys(operation.responses).find((status) => status.startsWith('2'));
        expect(answered, `${method} ${pattern} ${success}`).toContain(`${method} ${pattern} ${success}`);
      }
    }
  });
});
