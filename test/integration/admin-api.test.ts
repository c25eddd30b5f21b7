// The admin API over HTTP: client CRUD, pagination, validation, and who may call it.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { advanceClock } from '../helpers/clock.js';
import { admin, adminToken, basic, clientCredentialsToken, expectError, postForm, registerClient, type HttpResult } from '../helpers/oauth.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, startTollgate, type TestTollgate } from '../helpers/tollgate.js';

let tollgate: TestTollgate;
afterEach(() => {
  vi.useRealTimers();
});
let token: string;
/** Every admin API response body, searched at the end for secret hashes. */
const seen: string[] = [];

beforeAll(async () => {
  tollgate = await startTollgate();
  token = await adminToken(tollgate.url);
});
afterAll(() => tollgate?.close());

async function api(method: string, path: string, body?: unknown, bearer = token) {
  const response = await admin(tollgate.url, method, path, body, bearer);
  seen.push(JSON.stringify(response.body ?? ''));
  return response;
}

/** A request with a body and content type of our choosing. */
async function raw(method: string, path: string, body: string, contentType: string): Promise<HttpResult> {
  const response = await fetch(`${tollgate.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  });
  const text = await response.text();
  seen.push(text);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> };
}

describe('the admin token guards every spelling of the admin paths', () => {
  it.each(['/ADMIN/clients', '/Admin/users', '/admin/CLIENTS', '/aDmIn/audit', '/admin//clients', '/ADMIN'])(
    '%s without a token is no admin answer',
    async (path) => {
      const response = await fetch(`${tollgate.url}${path}`);
      expect([401, 404]).toContain(response.status);
      const created = await fetch(`${tollgate.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'intruder' }),
      });
      expect([401, 404, 405]).toContain(created.status);
    },
  );
});

describe('client lifecycle', () => {
  it('creates a client and returns its secret once, with a Location', async () => {
    const created = await api('POST', '/clients', {
      client_id: 'billing',
      client_name: 'Billing',
      scope: 'read write',
      default_scope: 'read',
      access_token_ttl: 600,
      resource_server: true,
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/admin/clients/billing');
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({
      client_id: 'billing',
      client_name: 'Billing',
      grant_types: ['client_credentials'],
      scope: 'read write',
      default_scope: 'read',
      access_token_ttl: 600,
      resource_server: true,
      token_endpoint_auth_method: 'client_secret_post',
      disabled: false,
      client_secret_expires_at: 0,
    });
    expect(created.body.client_secret).toMatch(/^[\w-]{43,}$/);

    const fetched = await api('GET', '/clients/billing');
    expect(fetched.status).toBe(200);
    expect(fetched.body).not.toHaveProperty('client_secret');
    const { client_secret: _secret, client_secret_expires_at: _expires, ...view } = created.body;
    expect(fetched.body).toEqual(view);
  });

  it('generates a client_id when none is given, and the secret gets tokens', async () => {
    const client = await registerClient(tollgate.url, { scope: 'read' });
    expect(client.client_id).toMatch(/^[\w-]{16,64}$/);
    const issued = await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret);
    expect(issued.status).toBe(200);
    expect(issued.body.scope).toBe('read');
  });

  it('pages through clients with limit and next_cursor', async () => {
    for (let i = 1; i <= 5; i++) expect((await api('POST', '/clients', { client_id: `page-${i}` })).status).toBe(201);
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api('GET', `/clients?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      const clients = page.body.clients as { client_id: string }[];
      expect(clients.length).toBeLessThanOrEqual(2);
      ids.push(...clients.map((c) => c.client_id));
      cursor = page.body.next_cursor as string | undefined;
      if (cursor) expect(cursor).toBe(clients.at(-1)!.client_id);
      pages += 1;
    } while (cursor && pages < 50);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['page-1', 'page-2', 'page-3', 'page-4', 'page-5', ADMIN_CLIENT_ID]));
    expect(pages).toBe(Math.ceil(ids.length / 2));

    const all = await api('GET', '/clients');
    expect((all.body.clients as unknown[]).length).toBe(ids.length);
    expect(all.body).not.toHaveProperty('next_cursor');
    expectError(await api('GET', '/clients?limit=0'), 400, 'limit');
    expectError(await api('GET', '/clients?limit=201'), 400, 'limit');
    expectError(await api('GET', '/clients?cursor=a%20b'), 400, 'cursor');
  });

  it('updates fields, keeping default_scope inside scope', async () => {
    await api('POST', '/clients', { client_id: 'patchme', scope: 'a b c', default_scope: 'a' });
    const patched = await api('PATCH', '/clients/patchme', {
      client_name: 'Patched',
      scope: 'a b',
      default_scope: 'b',
      access_token_ttl: 120,
      resource_server: true,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ client_name: 'Patched', scope: 'a b', default_scope: 'b', access_token_ttl: 120, resource_server: true });
    expect((await api('GET', '/clients/patchme')).body).toEqual(patched.body);

    const outside = await api('PATCH', '/clients/patchme', { default_scope: 'c' });
    expect([400, 409]).toContain(outside.status);
    expect(outside.body.field).toBe('default_scope');
    expectError(await api('PATCH', '/clients/patchme', { scope: 'x', default_scope: 'y' }), outside.status, 'default_scope');

    const cleared = await api('PATCH', '/clients/patchme', { access_token_ttl: null, client_name: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('access_token_ttl');
    expect(cleared.body).not.toHaveProperty('client_name');
  });

  it('deletes a client, and its tokens stop working at once', async () => {
    const resourceServer = await registerClient(tollgate.url, { resource_server: true });
    const doomed = await registerClient(tollgate.url, { client_id: 'doomed' });
    const issued = await clientCredentialsToken(tollgate.url, 'doomed', doomed.client_secret);
    expect(issued.status).toBe(200);

    const removed = await api('DELETE', '/clients/doomed');
    expect(removed.status).toBe(204);
    expectError(await api('GET', '/clients/doomed'), 404);
    expectError(await api('DELETE', '/clients/doomed'), 404);

    const introspected = await postForm(tollgate.url, '/introspect', { token: issued.body.access_token as string }, [
      resourceServer.client_id,
      resourceServer.client_secret,
    ]);
    expect(introspected.body).toEqual({ active: false });
  });

  it('rotates a secret: the new one works and the old one stops', async () => {
    const client = await registerClient(tollgate.url, { client_id: 'rotating' });
    const rotated = await api('POST', '/clients/rotating/secret', {});
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ client_id: 'rotating', client_secret_expires_at: 0 });
    expect(rotated.body.client_secret).toMatch(/^[\w-]{43,}$/);
    expect(rotated.body.client_secret).not.toBe(client.client_secret);

    expect((await clientCredentialsToken(tollgate.url, 'rotating', rotated.body.client_secret as string)).status).toBe(200);
    expect((await clientCredentialsToken(tollgate.url, 'rotating', client.client_secret)).status).toBe(401);
    expectError(await api('POST', '/clients/rotating/secret', { overlap_seconds: -1 }), 400, 'overlap_seconds');
  });

  it('answers 404 for an unknown client on every route', async () => {
    expectError(await api('GET', '/clients/nobody'), 404);
    expectError(await api('PATCH', '/clients/nobody', { client_name: 'x' }), 404);
    expectError(await api('DELETE', '/clients/nobody'), 404);
    expectError(await api('POST', '/clients/nobody/secret', {}), 404);
  });
});

describe('input validation', () => {
  it.each([
    ['an unknown field', { client_name: 'x', owner: 'me' }, 'owner'],
    ['a numeric name', { client_name: 5 }, 'client_name'],
    ['a string ttl', { access_token_ttl: '60' }, 'access_token_ttl'],
    ['a fractional ttl', { access_token_ttl: 1.5 }, 'access_token_ttl'],
    ['a ttl over 3600', { access_token_ttl: 3601 }, 'access_token_ttl'],
    ['a zero ttl', { access_token_ttl: 0 }, 'access_token_ttl'],
    ['a string resource_server', { resource_server: 'yes' }, 'resource_server'],
    ['scope as an array', { scope: ['read'] }, 'scope'],
    ['a quote in a scope', { scope: 'read "write' }, 'scope'],
    ['a backslash in a scope', { scope: 'read\\write' }, 'scope'],
    ['a non-ASCII scope', { scope: 'café' }, 'scope'],
    ['default_scope outside scope', { scope: 'read', default_scope: 'write' }, 'default_scope'],
    ['an unsupported grant type', { grant_types: ['password'] }, 'grant_types.0'],
    ['an unknown auth method', { token_endpoint_auth_method: 'none' }, 'token_endpoint_auth_method'],
    ['a client_id with a space', { client_id: 'a b' }, 'client_id'],
    ['a client_id of 65 characters', { client_id: 'x'.repeat(65) }, 'client_id'],
    ['redirect_uris as a string', { redirect_uris: 'https://app.example/cb' }, 'redirect_uris'],
    ['a redirect_uri that is no URL', { redirect_uris: ['not a url'] }, 'redirect_uris.0'],
    ['a javascript: redirect_uri', { redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris.0'],
    ['a redirect_uri with a fragment', { redirect_uris: ['https://app.example/cb', 'https://app.example/cb#x'] }, 'redirect_uris.1'],
  ])('POST with %s is 400 naming the field', async (_what, body, field) => {
    const response = await api('POST', '/clients', body);
    expectError(response, 400, field);
    expect(response.body.error).toBe('invalid_request');
  });

  it('PATCH is validated the same way', async () => {
    await api('POST', '/clients', { client_id: 'strict' });
    expectError(await api('PATCH', '/clients/strict', { client_id: 'renamed' }), 400, 'client_id');
    expectError(await api('PATCH', '/clients/strict', { disabled: 'no' }), 400, 'disabled');
    expectError(await api('PATCH', '/clients/strict', { access_token_ttl: 7200 }), 400, 'access_token_ttl');
  });

  it('refuses a duplicate client_id with 409', async () => {
    await api('POST', '/clients', { client_id: 'twice' });
    expectError(await api('POST', '/clients', { client_id: 'twice' }), 409, 'client_id');
  });

  it('refuses bodies that are not JSON, broken or too large', async () => {
    expectError(await raw('POST', '/clients', 'client_name=x', 'application/x-www-form-urlencoded'), 415);
    expectError(await raw('POST', '/clients', '{"client_name":"x"}', 'text/plain'), 415);
    expectError(await raw('PATCH', '/clients/strict', '{"client_name":"x"}', 'text/plain'), 415);
    expectError(await raw('POST', '/clients', '{"client_name": ', 'application/json'), 400);
    expectError(await raw('POST', '/clients', '[1, 2]', 'application/json'), 400);
    expectError(await raw('POST', '/clients', JSON.stringify({ client_name: 'x'.repeat(17 * 1024) }), 'application/json'), 413);
  });

  it('refuses JSON nested deeper than 32 levels with 400 naming the limit, on every route with a body', async () => {
    const id = (await api('POST', '/clients', {})).body.client_id as string;
    // 10 KB of 5,000 nested arrays, alone or as a field's value, and one level past the limit.
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const bodies = [deep, `{"client_name":${deep}}`, `{"client_name":"x","scope":${'['.repeat(32)}${']'.repeat(32)}}`];
    for (const [method, path] of [
      ['POST', '/clients'],
      ['PATCH', `/clients/${id}`],
      ['POST', `/clients/${id}/secret`],
    ] as const) {
      for (const body of bodies) {
        const response = await raw(method, path, body, 'application/json');
        expect(response.status, `${method} ${path} ${body.slice(0, 40)}`).toBe(400);
        expect(response.body).toMatchObject({ error: 'invalid_request', error_description: 'JSON bodies are nested at most 32 levels deep' });
      }
    }
    // At the limit, the schema decides as before.
    expectError(await raw('POST', '/clients', `{"client_name":"x","scope":${'['.repeat(31)}${']'.repeat(31)}}`, 'application/json'), 400, 'scope');
  });
});

describe('authorization', () => {
  const bare = (headers: Record<string, string> = {}) => fetch(`${tollgate.url}/admin/clients`, { headers });

  it('asks for a Bearer token when there is none', async () => {
    const response = await bare();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await response.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('refuses client credentials in place of a token', async () => {
    const response = await bare({ authorization: basic(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('refuses a garbage token with 401', async () => {
    const response = await bare({ authorization: 'Bearer not-a-real-token' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
  });

  it('refuses a token without scope admin with 403 insufficient_scope', async () => {
    const client = await registerClient(tollgate.url, { scope: 'read' });
    const issued = await clientCredentialsToken(tollgate.url, client.client_id, client.client_secret);
    const response = await api('GET', '/clients', undefined, issued.body.access_token as string);
    expect(response.status).toBe(403);
    expect(response.body.error).toBe('insufficient_scope');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope"/);
  });

  it('refuses a revoked admin token', async () => {
    const revoked = await adminToken(tollgate.url);
    expect((await api('GET', '/clients', undefined, revoked)).status).toBe(200);
    const revocation = await postForm(tollgate.url, '/revoke', { token: revoked }, [ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET]);
    expect(revocation.status).toBe(200);
    const response = await api('GET', '/clients', undefined, revoked);
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_token');
  });

  it('refuses an admin token once its client may no longer be granted scope admin, or is disabled', async () => {
    const operator = await registerClient(tollgate.url, { scope: 'admin read' });
    const issued = await clientCredentialsToken(tollgate.url, operator.client_id, operator.client_secret, 'admin');
    const held = issued.body.access_token as string;
    expect((await api('GET', '/clients', undefined, held)).status).toBe(200);

    expect((await api('PATCH', `/clients/${operator.client_id}`, { scope: 'read' })).status).toBe(200);
    const narrowed = await api('GET', '/clients', undefined, held);
    expect(narrowed.status).toBe(403);
    expect(narrowed.body.error).toBe('insufficient_scope');

    expect((await api('PATCH', `/clients/${operator.client_id}`, { scope: 'admin read' })).status).toBe(200);
    expect((await api('GET', '/clients', undefined, held)).status).toBe(200);

    expect((await api('PATCH', `/clients/${operator.client_id}`, { disabled: true })).status).toBe(200);
    expect((await api('GET', '/clients', undefined, held)).status).toBe(401);
  });

  it('refuses an expired admin token', async () => {
    expect((await api('PATCH', `/clients/${ADMIN_CLIENT_ID}`, { access_token_ttl: 1 })).status).toBe(200);
    try {
      const issued = await clientCredentialsToken(tollgate.url, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, 'admin');
      expect(issued.body.expires_in).toBe(1);
      advanceClock(2200);
      const response = await api('GET', '/clients', undefined, issued.body.access_token as string);
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('invalid_token');
    } finally {
      await api('PATCH', `/clients/${ADMIN_CLIENT_ID}`, { access_token_ttl: null }, await adminToken(tollgate.url));
    }
  });
});

describe('secrets', () => {
  it('never puts a secret hash in a response', async () => {
    // The hashes exist, so the search below could find them.
    const stored = await tollgate.db.prisma.client.findMany({ where: { secretHash: { not: null } }, select: { secretHash: true } });
    expect(stored.length).toBeGreaterThan(5);
    for (const { secretHash } of stored) expect(secretHash).toMatch(/^\$argon2id\$/);

    expect(seen.length).toBeGreaterThan(40);
    for (const body of seen) {
      expect(body).not.toContain('$argon2');
      expect(body).not.toMatch(/secret_?hash/i);
    }
  });
});
