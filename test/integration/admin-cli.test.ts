// `npm run admin -- client …`, `resource-server …`: commands run in this process (runCli) beside a
// server on a fresh database of each store (the embedded one, and PostgreSQL when DATABASE_URL is
// set), through its admin socket as in production; the command line's checks, which reach no
// server; and with no server running, the CLI opening an embedded store itself: its lock, and the
// real entry point as a child process.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/admin/local-api.js';
import { CONSOLE_CLIENT_ID } from '../../src/clients/service.js';
import { openDatabase } from '../../src/db/database.js';
import { cliBesideServer, cliStores, expectFailure, runAdmin, spawnCli } from '../helpers/admin-cli.js';
import { authorize } from '../helpers/browser-agent.js';
import { DpopKey } from '../helpers/dpop.js';
import { admin } from '../helpers/oauth.js';
import { seedDataDir } from '../helpers/prepared.js';
import { ADMIN_CLIENT_ID } from '../helpers/tollgate.js';
import { createUser, PASSWORD, REDIRECT_URI, tokenRequest } from '../helpers/users.js';

describe.each(cliStores)('the admin CLI beside a server on the $name store', (kind) => {
  const { run, env, tollgate } = cliBesideServer(kind);

  describe('client commands', () => {
    let secret: string;

    it('creates a client, printing its secret once', async () => {
      const created = await run(
        'client',
        'create',
        '--id',
        'cli-billing',
        '--name',
        'Billing',
        '--scope',
        'read write',
        '--default-scope',
        'read',
        '--ttl',
        '600',
        '--resource-server',
        'true',
        '--auth-method',
        'client_secret_post',
      );
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr).toBe('');
      expect(created.json).toMatchObject({
        client_id: 'cli-billing',
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
      secret = created.json.client_secret as string;
      expect(secret).toMatch(/^[\w-]{43}$/);
      expect(created.stdout).not.toContain('$argon2');

      // Stored only as an argon2id hash of the printed secret.
      const row = await tollgate().db.prisma.client.findUniqueOrThrow({ where: { id: 'cli-billing' } });
      expect(row.secretHash).toMatch(/^\$argon2id\$/);
      expect(await argon2.verify(row.secretHash!, secret)).toBe(true);
    });

    it('gets the client without its secret', async () => {
      const fetched = await run('client', 'get', 'cli-billing');
      expect(fetched.code, fetched.stderr).toBe(0);
      expect(fetched.json).toMatchObject({ client_id: 'cli-billing', scope: 'read write', access_token_ttl: 600 });
      expect(fetched.json).not.toHaveProperty('client_secret');
    });

    it('lists clients a page at a time', async () => {
      expect((await run('client', 'create', '--id', 'cli-zeta')).code).toBe(0);
      // In the order of their ids, the server's own clients last.
      const first = await run('client', 'list', '--limit', '2');
      expect(first.code, first.stderr).toBe(0);
      expect((first.json.clients as { client_id: string }[]).map((c) => c.client_id)).toEqual(['cli-billing', 'cli-zeta']);
      expect(first.json.next_cursor).toBe('cli-zeta');
      const second = await run('client', 'list', '--limit', '2', '--cursor', 'cli-zeta');
      expect((second.json.clients as { client_id: string }[]).map((c) => c.client_id)).toEqual([ADMIN_CLIENT_ID, CONSOLE_CLIENT_ID]);
      expect(second.json).not.toHaveProperty('next_cursor');
      expect(second.stdout).not.toContain('$argon2');
    });

    it('updates a client', async () => {
      const updated = await run(
        'client',
        'update',
        'cli-billing',
        '--name',
        'Billing v2',
        '--scope',
        'read',
        '--ttl',
        'default',
        '--resource-server',
        'false',
        '--disabled',
        'true',
      );
      expect(updated.code, updated.stderr).toBe(0);
      expect(updated.json).toMatchObject({
        client_id: 'cli-billing',
        client_name: 'Billing v2',
        scope: 'read',
        default_scope: 'read',
        resource_server: false,
        disabled: true,
      });
      expect(updated.json).not.toHaveProperty('access_token_ttl');
      expect(updated.json).not.toHaveProperty('client_secret');

      expectFailure(
        await run('client', 'update', 'cli-billing', '--default-scope', 'write'),
        1,
        /^tollgate-admin: default_scope must be a subset of scope \(--default-scope\)$/,
      );
    });

    it('rotates a secret', async () => {
      const rotated = await run('client', 'rotate-secret', 'cli-billing', '--overlap', '60');
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.json).toMatchObject({ client_id: 'cli-billing', client_secret_expires_at: 0 });
      expect(rotated.json.client_secret).toMatch(/^[\w-]{43}$/);
      expect(rotated.json.client_secret).not.toBe(secret);
      expect(Date.parse(rotated.json.previous_secret_expires_at as string)).toBeGreaterThan(Date.now());
    });

    it('deletes a client, saying so', async () => {
      const removed = await run('client', 'delete', 'cli-billing');
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.json).toEqual({ client_id: 'cli-billing', deleted: true });
      expectFailure(await run('client', 'get', 'cli-billing'), 1, 'client cli-billing not found');
      expectFailure(await run('client', 'delete', 'cli-billing'), 1, 'not found');
    });

    it('takes an id that starts with a dash when written --id=VALUE', async () => {
      const created = await run('client', 'create', '--id=-dash');
      expect(created.code, created.stderr).toBe(0);
      expect((await run('client', 'get', '--', '-dash')).json.client_id).toBe('-dash');
    });

    it('refuses a duplicate client id', async () => {
      expectFailure(await run('client', 'create', '--id', 'cli-zeta'), 1, 'client cli-zeta already exists');
    });

    it('creates a public sign-in client that signs a user in with PKCE and DPoP at once', { timeout: 60_000 }, async () => {
      const created = await run(
        'client',
        'create',
        '--id',
        'cli-app',
        '--name',
        'App',
        '--grant-type',
        'authorization_code',
        '--grant-type',
        'refresh_token',
        '--redirect-uri',
        REDIRECT_URI,
        '--redirect-uri',
        'https://app.example/callback',
        '--auth-method',
        'none',
        '--dpop',
        'true',
        '--scope',
        'read write',
        '--default-scope',
        'read',
        '--refresh-idle-ttl',
        '3600',
        '--refresh-absolute-ttl',
        '86400',
        '--refresh-reuse-grace',
        '5',
      );
      expect(created.code, created.stderr).toBe(0);
      expect(created.json).toMatchObject({
        client_id: 'cli-app',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: [REDIRECT_URI, 'https://app.example/callback'],
        token_endpoint_auth_method: 'none',
        dpop_bound_access_tokens: true,
        refresh_token_idle_ttl: 3600,
        refresh_token_absolute_ttl: 86400,
        refresh_token_reuse_grace: 5,
      });
      // A public client has no secret to print.
      expect(created.json).not.toHaveProperty('client_secret');
      expect(created.json).not.toHaveProperty('client_secret_expires_at');
      expect((await run('client', 'get', 'cli-app')).json).toEqual(created.json);

      const { url } = tollgate();
      expect((await admin(url, 'GET', '/clients/cli-app')).body).toEqual(created.json);
      const user = await createUser(url);
      const flow = await authorize(url, { clientId: 'cli-app', redirectUri: REDIRECT_URI, scope: 'read', login: user.username, password: PASSWORD });
      const app = { client_id: 'cli-app' };
      const form = { grant_type: 'authorization_code', code: flow.code!, redirect_uri: REDIRECT_URI, code_verifier: flow.verifier };
      // Bound to a key: a token request without a proof is refused.
      expect((await tokenRequest(url, app, form)).body).toMatchObject({ error: 'invalid_dpop_proof' });
      const key = new DpopKey();
      const tokens = await tokenRequest(url, app, form, { dpop: key.proof(`${url}/token`) });
      expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
      expect(tokens.body).toMatchObject({ token_type: 'DPoP', scope: 'read' });
      const again = { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token as string };
      const refreshed = await tokenRequest(url, app, again, { dpop: key.proof(`${url}/token`) });
      expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);

      const updated = await run(
        'client',
        'update',
        'cli-app',
        '--dpop',
        'false',
        '--redirect-uri',
        'https://app.example/other',
        '--refresh-idle-ttl',
        'default',
      );
      expect(updated.code, updated.stderr).toBe(0);
      expect(updated.json).toMatchObject({ dpop_bound_access_tokens: false, redirect_uris: ['https://app.example/other'] });
      expect(updated.json).not.toHaveProperty('refresh_token_idle_ttl');
      expectFailure(
        await run('client', 'update', 'cli-app', '--redirect-uri', 'none'),
        64,
        /redirect_uris: authorization_code requires at least one redirect URI \(--redirect-uri\)$/,
      );
    });
  });

  describe('resource-server commands', () => {
    let id: string;

    it('creates a resource server and prints it with its id', async () => {
      const created = await run(
        'resource-server',
        'create',
        '--identifier',
        'https://orders.example/api',
        '--name',
        'Orders',
        '--scope',
        'orders:read orders:write',
        '--format',
        'jwt',
        '--ttl',
        '120',
        '--alg',
        'ES256',
        '--dpop',
        'true',
      );
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr).toBe('');
      expect(created.json).toMatchObject({
        identifier: 'https://orders.example/api',
        name: 'Orders',
        scopes: ['orders:read', 'orders:write'],
        access_token_format: 'jwt',
        access_token_ttl: 120,
        signing_alg: 'ES256',
        dpop_required: true,
      });
      id = created.json.id as string;
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await run('resource-server', 'get', id)).json).toEqual(created.json);
    });

    it('refuses a taken identifier, and an invalid one naming the option', async () => {
      expectFailure(await run('resource-server', 'create', '--identifier', 'https://orders.example/api', '--name', 'Again'), 1, 'already exists');
      expectFailure(
        await run('resource-server', 'create', '--identifier', 'orders', '--name', 'Orders'),
        64,
        /identifier: must be an absolute URI \(--identifier\)/,
      );
      expectFailure(await run('resource-server', 'create', '--identifier', `${tollgate().url}/`, '--name', 'Issuer'), 64, 'must not be the issuer');
      expectFailure(await run('resource-server', 'create', '--name', 'Orders'), 64, /identifier.*\(--identifier\)/);
      expectFailure(await run('resource-server', 'create', '--identifier', 'https://x.example', '--name', 'X', '--alg', 'HS256'), 64, /signing_alg.*\(--alg\)/);
    });

    it('links a client to it, and unlinks it', async () => {
      const linked = await run('client', 'create', '--id', 'cli-orders-api', '--for-resource-server', id);
      expect(linked.code, linked.stderr).toBe(0);
      expect(linked.json.resource_server_id).toBe(id);
      const unlinked = await run('client', 'update', 'cli-orders-api', '--for-resource-server', 'none');
      expect(unlinked.code, unlinked.stderr).toBe(0);
      expect(unlinked.json).not.toHaveProperty('resource_server_id');
      expectFailure(await run('client', 'update', 'cli-orders-api', '--for-resource-server', 'nope'), 64, /resource_server_id.*\(--for-resource-server\)/);
    });

    it('lists, updates and deletes it, each change in the audit trail', async () => {
      expect((await run('resource-server', 'create', '--identifier', 'urn:example:second', '--name', 'Second')).code).toBe(0);
      const listed = await run('resource-server', 'list', '--limit', '1');
      expect(listed.code, listed.stderr).toBe(0);
      expect((listed.json.resource_servers as unknown[]).length).toBe(1);
      expect(listed.json.next_cursor).toEqual(expect.any(String));

      const updated = await run('resource-server', 'update', id, '--name', 'Orders v2', '--ttl', 'default', '--format', 'opaque', '--scope', '');
      expect(updated.code, updated.stderr).toBe(0);
      expect(updated.json).toMatchObject({ id, name: 'Orders v2', access_token_format: 'opaque', scopes: [], signing_alg: 'ES256', dpop_required: true });
      expect(updated.json).not.toHaveProperty('access_token_ttl');

      const removed = await run('resource-server', 'delete', id);
      expect(removed.code, removed.stderr).toBe(0);
      expect(removed.json).toEqual({ id, deleted: true });
      expectFailure(await run('resource-server', 'get', id), 1, `resource server ${id} not found`);

      // The server writes its audit events in batches.
      await tollgate().running.app.audit.flush();
      const events = await tollgate().db.prisma.auditEvent.findMany({ where: { type: { startsWith: 'resource_server.' } }, orderBy: { id: 'asc' } });
      const ofThis = events.filter((event) => (event.details as { resource_server_id?: string }).resource_server_id === id);
      expect(ofThis.map((event) => event.type)).toEqual(['resource_server.created', 'resource_server.updated', 'resource_server.deleted']);
      expect(ofThis.every((event) => event.actor === cliActor())).toBe(true);
    });
  });

  describe('resource-server routes commands', () => {
    let id: string;
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tollgate-rules-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('sets the gateway route rules from a YAML or a JSON file, and prints them', async () => {
      const created = await run(
        'resource-server',
        'create',
        '--identifier',
        'https://items.example/api',
        '--name',
        'Items',
        '--public-base-url',
        'https://items.example',
        '--case-sensitive-paths',
        'true',
      );
      expect(created.code, created.stderr).toBe(0);
      expect(created.json.public_base_url).toBe('https://items.example');
      expect(created.json.case_sensitive_paths).toBe(true);
      id = created.json.id as string;
      expect((await run('resource-server', 'routes', 'get', id)).json).toEqual({ id, routes: [] });

      await writeFile(
        join(dir, 'rules.yaml'),
        'routes:\n  - path: /health\n    public: true\n  - path: /items/**\n    methods: [GET]\n    scopes_any: [items:read, items:write]\n',
      );
      const set = await run('resource-server', 'routes', 'set', id, '--file', join(dir, 'rules.yaml'));
      expect(set.code, set.stderr).toBe(0);
      const rules = [
        { path: '/health', public: true },
        { path: '/items/**', methods: ['GET'], scopes_any: ['items:read', 'items:write'] },
      ];
      expect(set.json).toEqual({ id, routes: rules });
      expect((await run('resource-server', 'routes', 'get', id)).json).toEqual({ id, routes: rules });

      await writeFile(join(dir, 'rules.json'), JSON.stringify({ routes: [{ host: 'items.example', path: '/**', scopes_all: ['items:read'] }] }));
      expect((await run('resource-server', 'routes', 'set', id, '--file', join(dir, 'rules.json'))).code).toBe(0);
      expect((await run('resource-server', 'routes', 'get', id)).json).toEqual({
        id,
        routes: [{ host: 'items.example', path: '/**', scopes_all: ['items:read'] }],
      });
      // From standard input too.
      const piped = await runAdmin(env(), ['resource-server', 'routes', 'set', id, '--file', '-'], JSON.stringify({ routes: rules }));
      expect(piped.json).toEqual({ id, routes: rules });

      await tollgate().running.app.audit.flush();
      const events = await tollgate().db.prisma.auditEvent.findMany({ where: { type: 'resource_server.routes_updated' } });
      expect(events.map((event) => (event.details as { resource_server_id?: string }).resource_server_id)).toEqual([id, id, id]);
      expect(events.every((event) => event.actor === cliActor())).toBe(true);
    });

    it('refuses rules that are not valid, naming the file or the option, and changes nothing', async () => {
      await writeFile(join(dir, 'bad.yaml'), 'routes:\n  - path: items\n');
      expectFailure(await run('resource-server', 'routes', 'set', id, '--file', join(dir, 'bad.yaml')), 64, /routes\.0\.path: must start with \/.*\(--file\)/);
      await writeFile(join(dir, 'broken.yaml'), 'routes: [\n');
      expectFailure(await run('resource-server', 'routes', 'set', id, '--file', join(dir, 'broken.yaml')), 64, /is not valid JSON or YAML/);
      expectFailure(await run('resource-server', 'routes', 'set', id, '--file', join(dir, 'missing.yaml')), 64, /cannot read .*ENOENT/);
      expectFailure(await run('resource-server', 'routes', 'set', id), 64, /--file FILE is required/);
      expectFailure(await run('resource-server', 'routes', 'list', id), 64, /neither get nor set/);
      await writeFile(join(dir, 'ok.json'), '{"routes": []}');
      expectFailure(await run('resource-server', 'routes', 'set', '00000000-0000-0000-0000-000000000000', '--file', join(dir, 'ok.json')), 1, /not found/);
      expect((await run('resource-server', 'routes', 'get', id)).json.routes).toHaveLength(2);
    });
  });
});

describe('command line errors', () => {
  let dir: string;
  const env = () => ({ DATA_DIR: join(dir, 'data') });
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints the usage for help and for no command', async () => {
    for (const args of [[], ['help'], ['--help']]) {
      const help = await runAdmin(env(), args);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: npm run admin -- /);
      expect(help.stdout).toContain('client rotate-secret ID [--overlap SECONDS]');
      expect(help.stdout).toContain('[--grant-type GRANT]…');
    }
  });

  it("prints one command's usage and a line per option for --help, without opening the database", async () => {
    const help = await runAdmin(env(), ['client', 'create', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^Usage: npm run admin -- client create \[--id ID\]/);
    expect(help.stdout).toMatch(/\n {2}--grant-type GRANT +client_credentials \(default\), authorization_code or refresh_token \(repeatable\)\n/);
    expect(help.stdout).toMatch(/\n {2}--auth-method METHOD +.*none: a public client/);
    expect(help.stdout).toMatch(/\n {2}--dpop true\|false +/);
    expect(help.stdout).not.toContain('--disabled');
    expect((await runAdmin(env(), ['client', 'update', 'x', '-h'])).stdout).toMatch(/\n {2}--disabled true\|false +/);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it.each([
    ['client', 'create'],
    ['client', 'list'],
    ['client', 'get'],
    ['client', 'update'],
    ['client', 'delete'],
    ['client', 'rotate-secret'],
    ['user', 'create'],
    ['user', 'list'],
    ['user', 'get'],
    ['user', 'update'],
    ['user', 'delete'],
    ['user', 'consents'],
    ['user', 'revoke-consent'],
    ['resource-server', 'create'],
    ['resource-server', 'list'],
    ['resource-server', 'get'],
    ['resource-server', 'update'],
    ['resource-server', 'delete'],
    ['audit', 'list'],
    ['audit', 'prune'],
    ['keys', 'list'],
    ['keys', 'rotate'],
  ])('%s %s --help exits 0 with its usage and description', async (family, command) => {
    const help = await runAdmin(env(), [family, command, '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: npm run admin -- ${family} ${command}\\b[^]*?\n\n[A-Z][^\n]+\\.\n`));
    for (const flag of help.stdout.match(/\[--[\w-]+/g) ?? []) expect(help.stdout).toContain(`\n  ${flag.slice(1)}`);
  });

  it.each([
    [['client', 'create', '--ttl', '4000'], /access_token_ttl.*<=3600.*--ttl/],
    [['client', 'create', '--ttl', 'soon'], /access_token_ttl.*--ttl/],
    [['client', 'create', '--scope', 'read "write'], /scope: must be space-separated RFC 6749 scope tokens \(--scope\)/],
    [['client', 'create', '--scope', 'read', '--default-scope', 'write'], /default_scope: must be a subset of scope/],
    [['client', 'create', '--id', 'has space'], /client_id.*--id/],
    [['client', 'create', '--auth-method', 'none'], /token_endpoint_auth_method.*--auth-method/],
    [
      [
        'client',
        'create',
        '--auth-method',
        'none',
        '--grant-type',
        'authorization_code',
        '--redirect-uri',
        'https://a.example/cb',
        '--resource-server',
        'true',
      ],
      /resource_server.*\(--resource-server\)/,
    ],
    [['client', 'create', '--grant-type', 'implicit'], /grant_types.*\(--grant-type\)/],
    [['client', 'create', '--grant-type', 'refresh_token'], /grant_types: refresh_token requires authorization_code .*\(--grant-type\)$/],
    [['client', 'create', '--grant-type', 'authorization_code'], /redirect_uris: authorization_code requires at least one redirect URI \(--redirect-uri\)/],
    [
      ['client', 'create', '--grant-type', 'authorization_code', '--redirect-uri', 'http://app.example/cb'],
      /redirect_uris.*must use https.*\(--redirect-uri\)/,
    ],
    [['client', 'create', '--dpop', 'yes'], /dpop_bound_access_tokens.*\(--dpop\)/],
    [['client', 'create', '--refresh-idle-ttl', '10'], /refresh_token_idle_ttl.*\(--refresh-idle-ttl\)/],
    [['client', 'create', '--refresh-absolute-ttl', 'x'], /refresh_token_absolute_ttl.*\(--refresh-absolute-ttl\)/],
    [['client', 'update', 'x', '--refresh-reuse-grace', '61'], /refresh_token_reuse_grace.*\(--refresh-reuse-grace\)/],
    [['client', 'create', '--resource-server', 'maybe'], /resource_server.*\(--resource-server\)/],
    [['client', 'create', '--disabled', 'true'], /Unknown option '--disabled'/],
    [['client', 'update', 'x', '--id', 'y'], /Unknown option '--id'/],
    [['client', 'create', '--bogus'], /Unknown option '--bogus'/],
    [['client', 'create', '--name'], /--name.*argument missing/],
    [['client', 'update', 'x', '--disabled', 'maybe'], /disabled.*--disabled/],
    [['client', 'update', 'x', '--resource-server'], /--resource-server.*argument missing/],
    [['client', 'create', '--resource-server'], /--resource-server.*argument missing/],
    [['client', 'list', '--limit', '0'], /limit.*--limit/],
    [['client', 'rotate-secret', 'x', '--overlap=-5'], /overlap_seconds.*--overlap/],
    [['client', 'create', '--id', '-dash'], /Option '--id' argument is ambiguous \(for a value that starts with "-", write --option=value\)/],
    [['client', 'get'], /usage: client get ID/],
    [['client', 'get', 'a', 'b'], /usage: client get ID/],
    [['client', 'frobnicate'], /unknown client command "frobnicate"/],
    [['client'], null],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j exits 64 with one line', async (args, expected) => {
    const run = await runAdmin(env(), args);
    if (expected) expectFailure(run, 64, expected);
    else expect(run.code).toBe(64);
  });

  it('checks the command line before it opens the database', async () => {
    const run = await runAdmin(env(), ['client', 'create', '--ttl', '0']);
    expectFailure(run, 64, 'access_token_ttl');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('names a bad configuration variable', async () => {
    expectFailure(await runAdmin({ DATABASE_URL: 'mysql://root@localhost/db' }, ['client', 'list']), 1, /DATABASE_URL must be a postgresql:\/\/ URL/);
  });
});

describe('the embedded store opened by the CLI itself, with no server running', () => {
  let dir: string;
  let dataDir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-cli-'));
    dataDir = join(dir, 'data');
    // A database no migration has touched yet, as a first start finds it.
    await seedDataDir(dataDir, 'empty');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses a second opener while the first holds the store, and migrates it once free, saying so', { timeout: 120_000 }, async () => {
    const db = await openDatabase({ dataDir });
    try {
      expectFailure(
        await runAdmin({ DATA_DIR: dataDir }, ['client', 'list']),
        1,
        `the embedded database in ${dataDir} is in use by process ${process.pid}; stop it or use the admin API`,
      );
      // Nor may the test open it twice: PGlite must not open a folder twice.
      await expect(openDatabase({ dataDir })).rejects.toThrow(/in use by process/);
    } finally {
      await db.close();
    }
    const after = await runAdmin({ DATA_DIR: dataDir }, ['client', 'list']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.migrated).toBe(true);
    expect(after.json).toEqual({ clients: [] });
  });

  it('takes over a lock left by a process that has died', async () => {
    const dead = await new Promise<number>((resolve) => {
      const child = execFile(process.execPath, ['-e', '0'], () => resolve(child.pid!));
    });
    await writeFile(join(dataDir, 'tollgate.lock'), `${dead}\n`);
    const run = await runAdmin({ DATA_DIR: dataDir }, ['client', 'list']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.migrated).toBe(false);
    // Released when the command ends: the store can be opened again.
    const db = await openDatabase({ dataDir });
    await db.close();
  });

  // The real entry point; test/integration/admin-socket.test.ts runs it against a server's socket, failing.
  it('runs as the real entry point, npm run admin: reads the environment and standard input, prints JSON and exits 0', { timeout: 120_000 }, async () => {
    const created = await spawnCli({ DATA_DIR: dataDir }, dir, ['user', 'create', 'ivan', '--password-stdin'], 'a piped password\n');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toBe('');
    expect(created.json).toMatchObject({ username: 'ivan', disabled: false });
    expect(created.stdout).not.toContain('a piped password');
  });
});
