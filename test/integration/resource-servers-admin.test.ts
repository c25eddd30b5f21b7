// Resource servers through the admin API: their record, its validation, paging, the audit trail,
// and the instance's in-memory copy that follows every change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, adminToken, expectError, registerClient } from '../helpers/oauth.js';
import { auditEvents } from '../helpers/ops.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';

let tollgate: TestTollgate;
let token: string;

beforeAll(async () => {
  tollgate = await startTollgate();
  token = await adminToken(tollgate.url);
});
afterAll(() => tollgate?.close());

const api = (method: string, path: string, body?: unknown) => admin(tollgate.url, method, `/resource-servers${path}`, body, token);

describe('resource server lifecycle', () => {
  let id: string;

  it('registers one with the defaults, answering 201 with its id and a Location', async () => {
    const created = await api('POST', '', { identifier: 'https://invoices.example/api', name: 'Invoices' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    id = created.body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.headers.get('location')).toBe(`/admin/resource-servers/${id}`);
    expect(created.body).toEqual({
      id,
      identifier: 'https://invoices.example/api',
      name: 'Invoices',
      scopes: [],
      access_token_format: 'opaque',
      signing_alg: 'RS256',
      dpop_required: false,
      case_sensitive_paths: false,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect((await api('GET', `/${id}`)).body).toEqual(created.body);
  });

  it('registers one with every field given', async () => {
    const created = await api('POST', '', {
      identifier: 'urn:example:ledger',
      name: 'Ledger',
      scopes: ['ledger:read', 'ledger:write', 'ledger:read'],
      access_token_format: 'jwt',
      access_token_ttl: 120,
      signing_alg: 'ES256',
      dpop_required: true,
      case_sensitive_paths: true,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      identifier: 'urn:example:ledger',
      scopes: ['ledger:read', 'ledger:write'],
      access_token_format: 'jwt',
      access_token_ttl: 120,
      signing_alg: 'ES256',
      dpop_required: true,
      case_sensitive_paths: true,
    });
  });

  it('refuses a second resource server with the same identifier (409)', async () => {
    expectError(await api('POST', '', { identifier: 'https://invoices.example/api', name: 'Again' }), 409, 'identifier');
  });

  it('changes the given fields only, and clears the lifetime with null', async () => {
    const changed = await api('PATCH', `/${id}`, {
      name: 'Invoices v2',
      scopes: ['invoices:read'],
      access_token_ttl: 600,
      access_token_format: 'jwt',
      signing_alg: 'EdDSA',
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({
      id,
      identifier: 'https://invoices.example/api',
      name: 'Invoices v2',
      scopes: ['invoices:read'],
      access_token_ttl: 600,
      access_token_format: 'jwt',
      signing_alg: 'EdDSA',
    });
    const cleared = await api('PATCH', `/${id}`, { access_token_ttl: null });
    expect(cleared.body).not.toHaveProperty('access_token_ttl');
    expect(cleared.body.name).toBe('Invoices v2');
  });

  it("refuses to take another resource server's identifier (409)", async () => {
    expectError(await api('PATCH', `/${id}`, { identifier: 'urn:example:ledger' }), 409, 'identifier');
  });

  it('lists them a page at a time', async () => {
    const all = await api('GET', '?limit=200');
    const ids = (all.body.resource_servers as { id: string }[]).map((server) => server.id);
    expect(ids).toEqual([...ids].sort());
    const first = await api('GET', '?limit=1');
    expect((first.body.resource_servers as unknown[]).length).toBe(1);
    expect(first.body.next_cursor).toBe(ids[0]);
    const rest = await api('GET', `?limit=200&cursor=${first.body.next_cursor as string}`);
    expect((rest.body.resource_servers as { id: string }[]).map((server) => server.id)).toEqual(ids.slice(1));
    expect(rest.body).not.toHaveProperty('next_cursor');
  });

  it('deletes one; clients linked to it lose the link', async () => {
    const created = await api('POST', '', { identifier: 'https://gone.example', name: 'Gone' });
    const gone = created.body.id as string;
    const client = await registerClient(tollgate.url);
    // Linked in the store directly: here only what deleting the resource server does to the link matters.
    await tollgate.db.prisma.client.update({ where: { id: client.client_id }, data: { resourceServerId: gone } });
    expect((await api('DELETE', `/${gone}`)).status).toBe(204);
    expectError(await api('GET', `/${gone}`), 404);
    expectError(await api('DELETE', `/${gone}`), 404);
    expect((await tollgate.db.prisma.client.findUniqueOrThrow({ where: { id: client.client_id } })).resourceServerId).toBeNull();
  });

  it('records every change in the audit trail, naming the resource server', async () => {
    const { events } = await auditEvents(tollgate.url, { type: 'resource_server.created,resource_server.updated,resource_server.deleted' });
    const ofFirst = events.filter((event) => (event.details as { resource_server_id?: string } | undefined)?.resource_server_id === id);
    expect(ofFirst.map((event) => [event.type, event.outcome])).toEqual([
      ['resource_server.updated', 'failure'],
      ['resource_server.updated', 'success'],
      ['resource_server.updated', 'success'],
      ['resource_server.created', 'success'],
    ]);
    expect(events.some((event) => event.type === 'resource_server.deleted')).toBe(true);
    expect(events.every((event) => event.client_id === undefined || event.client_id === null)).toBe(true);
  });
});

describe('bad input is a 4xx naming the field', () => {
  it.each([
    [{ name: 'No identifier' }, 'identifier'],
    [{ identifier: 'not a uri', name: 'x' }, 'identifier'],
    [{ identifier: '/relative/path', name: 'x' }, 'identifier'],
    [{ identifier: 'https://api.example/#frag', name: 'x' }, 'identifier'],
    [{ identifier: 'https://api.example' }, 'name'],
    [{ identifier: 'https://api.example', name: 'x', scopes: 'a b' }, 'scopes'],
    [{ identifier: 'https://api.example', name: 'x', scopes: ['a"b'] }, 'scopes.0'],
    [{ identifier: 'https://api.example', name: 'x', access_token_format: 'paseto' }, 'access_token_format'],
    [{ identifier: 'https://api.example', name: 'x', access_token_ttl: 3601 }, 'access_token_ttl'],
    [{ identifier: 'https://api.example', name: 'x', access_token_ttl: 0 }, 'access_token_ttl'],
    [{ identifier: 'https://api.example', name: 'x', signing_alg: 'HS256' }, 'signing_alg'],
    [{ identifier: 'https://api.example', name: 'x', dpop_required: 'yes' }, 'dpop_required'],
    [{ identifier: 'https://api.example', name: 'x', id: 'chosen' }, undefined],
  ])('%j', async (body, field) => {
    expectError(await api('POST', '', body), 400, field);
  });

  it("refuses the issuer's own identifier, however it is spelt (its tokens carry it as their aud)", async () => {
    const issuer = tollgate.url;
    const { host } = new URL(issuer);
    const spellings = [
      issuer,
      `${issuer}/`,
      `HTTP://${host.toUpperCase()}`,
      `${issuer}/./`,
      `${issuer}/a/..`,
      `${issuer}/%2e/`,
      `http://user@${host}/`,
      `${issuer}?`,
    ];
    for (const identifier of spellings) expectError(await api('POST', '', { identifier, name: 'Issuer' }), 400, 'identifier');
    const created = await api('POST', '', { identifier: `${issuer}/api`, name: 'Below the issuer' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    for (const identifier of spellings) expectError(await api('PATCH', `/${created.body.id as string}`, { identifier }), 400, 'identifier');
    expect((await api('GET', `/${created.body.id as string}`)).body.identifier).toBe(`${issuer}/api`);
  });

  it('an id that no resource server can have is a 404', async () => {
    expectError(await api('GET', '/not-an-id'), 404);
    expectError(await api('PATCH', '/00000000-0000-0000-0000-000000000000', { name: 'x' }), 404);
  });
});

describe("the instance's copy of the resource servers", () => {
  it('follows creation, change and deletion at once', async () => {
    const servers = tollgate.running.app.resourceServers;
    expect(await servers.findByIdentifier('https://copy.example')).toBeUndefined();
    const created = await api('POST', '', { identifier: 'https://copy.example', name: 'Copy' });
    expect((await servers.findByIdentifier('https://copy.example'))?.name).toBe('Copy');
    await api('PATCH', `/${created.body.id as string}`, { identifier: 'https://copy.example/v2' });
    expect(await servers.findByIdentifier('https://copy.example')).toBeUndefined();
    expect((await servers.findByIdentifier('https://copy.example/v2'))?.name).toBe('Copy');
    await api('DELETE', `/${created.body.id as string}`);
    expect(await servers.findByIdentifier('https://copy.example/v2')).toBeUndefined();
  });

  it('is read from memory while nothing changes', async () => {
    const servers = tollgate.running.app.resourceServers;
    await servers.all();
    // Written behind the service's back: a copy in memory does not see it until a change is announced.
    await tollgate.db.prisma.resourceServer.create({
      data: { id: '11111111-1111-1111-1111-111111111111', identifier: 'https://behind.example', name: 'Behind' },
    });
    expect(await servers.findByIdentifier('https://behind.example')).toBeUndefined();
    await tollgate.running.app.caches.bus.publish({ kind: 'resource_server', id: '11111111-1111-1111-1111-111111111111' });
    expect((await servers.findByIdentifier('https://behind.example'))?.name).toBe('Behind');
  });
});
