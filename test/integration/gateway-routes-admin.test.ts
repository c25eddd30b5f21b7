// /admin/resource-servers/{id}/routes: a resource server's gateway route rules through the admin
// API, validated by the same schema as the CLI's files, audited, and public_base_url beside them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, adminToken, expectError } from '../helpers/oauth.js';
import { auditEvents } from '../helpers/ops.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

let tollgate: TestTollgate;
let token: string;
let id: string;

beforeAll(async () => {
  tollgate = await startTollgate();
  token = await adminToken(tollgate.url);
  const created = await admin(tollgate.url, 'POST', '/resource-servers', { identifier: 'https://photos.example/api', name: 'Photos' }, token);
  id = created.body.id as string;
});
afterAll(() => tollgate?.close());

const routes = (method: string, body?: unknown, server = id) => admin(tollgate.url, method, `/resource-servers/${server}/routes`, body, token);

describe('gateway route rules', () => {
  it('starts with none, then holds exactly the list put', async () => {
    expect((await routes('GET')).body).toEqual({ routes: [] });
    const rules = [
      { host: '*.photos.example', path: '/albums/*/photos', methods: ['GET', 'HEAD'], scopes_any: ['photos:read', 'photos:write'] },
      { path: '/albums/**', scopes_all: ['photos:write'] },
      { path: '/health', public: true },
    ];
    const put = await routes('PUT', { routes: rules });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual({ routes: rules });
    expect((await routes('GET')).body).toEqual({ routes: rules });
  });

  it('refuses an invalid list whole, naming the field, and keeps the rules it had', async () => {
    const before = (await routes('GET')).body;
    expectError(await routes('PUT', { routes: [{ path: '/ok' }, { path: 'relative' }] }), 400, 'routes.1.path');
    expectError(await routes('PUT', { routes: [{ path: '/x', methods: ['TRACE'] }] }), 400, 'routes.0.methods.0');
    expectError(await routes('PUT', { routes: [{ path: '/x', public: true, scopes_all: ['a'] }] }), 400);
    expectError(await routes('PUT', { rules: [] }), 400);
    expectError(await routes('PUT', [{ path: '/x' }]), 400);
    expect((await routes('GET')).body).toEqual(before);
  });

  it('answers 404 for a resource server that does not exist', async () => {
    expectError(await routes('GET', undefined, '00000000-0000-0000-0000-000000000000'), 404);
    expectError(await routes('PUT', { routes: [] }, '00000000-0000-0000-0000-000000000000'), 404);
    expectError(await routes('PUT', { routes: [] }, 'not-an-id'), 404);
  });

  it('records each change in the audit trail, reads none', async () => {
    const { events } = await auditEvents(tollgate.url, { type: 'resource_server.routes_updated' }, token);
    const outcomes = events
      .filter((event) => event.details.resource_server_id === id || event.details.resource_server_id === undefined)
      .map((event) => event.outcome);
    expect(outcomes.filter((outcome) => outcome === 'success')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'failure').length).toBeGreaterThanOrEqual(5);
  });
});

describe('public_base_url', () => {
  it('is an http(s) origin, set on create or update and removed with null', async () => {
    const created = await admin(
      tollgate.url,
      'POST',
      '/resource-servers',
      { identifier: 'https://docs.example/api', name: 'Docs', public_base_url: 'https://docs.example' },
      token,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.public_base_url).toBe('https://docs.example');
    const path = `/resource-servers/${created.body.id as string}`;
    for (const bad of ['docs.example', 'https://docs.example/api', 'ftp://docs.example', 'https://docs.example?x=1']) {
      expectError(await admin(tollgate.url, 'PATCH', path, { public_base_url: bad }, token), 400, 'public_base_url');
    }
    expect((await admin(tollgate.url, 'PATCH', path, { public_base_url: 'http://127.0.0.1:8080/' }, token)).body.public_base_url).toBe(
      'http://127.0.0.1:8080/',
    );
    expect((await admin(tollgate.url, 'PATCH', path, { public_base_url: null }, token)).body).not.toHaveProperty('public_base_url');
  });
});
