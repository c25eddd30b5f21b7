// The admin CLI beside a running server: a server started on a DATA_DIR serves the admin API on its
// admin socket, and the CLI given the same DATA_DIR works through it. On the embedded store the
// server holds the database, so a CLI that succeeds went through the socket; on PostgreSQL the CLI
// is given a database it cannot reach, for the same proof.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/admin/local-api.js';
import { adminSocketPath, findAdminSocket, listenOnAdminSocket } from '../../src/admin/socket.js';
import { cliStores, expectFailure, freshCliStore, runAdmin, spawnCli, startServerIn, UNREACHABLE_DATABASE, type CliStore } from '../helpers/admin-cli.js';
import { admin, clientCredentialsToken } from '../helpers/oauth.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, type TestTollgate } from '../helpers/tollgate.js';

/** The CLI's environment when only the socket may answer. */
const socketOnly = (store: CliStore) => (store.env.DATABASE_URL ? { ...store.env, DATABASE_URL: UNREACHABLE_DATABASE } : store.env);

/** A server on the store, with the store's DATA_DIR. */
const startOn = (store: CliStore) => startServerIn(store.dataDir, store.location);

/** Leaves a socket file nothing answers on, as a server that was killed does. */
async function leaveStaleSocket(path: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  await new Promise<void>((resolve) => execFile(process.execPath, ['-e', script], () => resolve()));
  expect((await stat(path)).isSocket()).toBe(true);
}

describe.each(cliStores)('the admin socket on the $name store', ({ open }) => {
  const fresh = freshCliStore(open);

  describe('a socket nobody answers on', () => {
    it('is passed over by the CLI, which opens the database, and replaced by a starting server', { timeout: 60_000 }, async () => {
      const store = fresh.store();
      const path = adminSocketPath(store.dataDir);
      await leaveStaleSocket(path);
      const direct = await runAdmin(store.env, ['client', 'create', '--id', 'stale-one']);
      expect(direct.code, direct.stderr).toBe(0);

      const tollgate = await startOn(store);
      try {
        expect(tollgate.logs).toContainEqual(expect.objectContaining({ path, msg: expect.stringMatching(/^admin socket listening/) }));
        const viaSocket = await runAdmin(socketOnly(store), ['client', 'get', 'stale-one']);
        expect(viaSocket.code, viaSocket.stderr).toBe(0);
        expect((await stat(path)).mode & 0o777).toBe(0o600);
      } finally {
        await tollgate.close();
      }
    });

    it('is left alone when another process answers on it; the server runs on without one', { timeout: 60_000 }, async () => {
      const store = fresh.store();
      const path = adminSocketPath(store.dataDir);
      const other = createServer((connection) => connection.end());
      await new Promise<void>((resolve) => other.listen(path, resolve));
      try {
        const tollgate = await startOn(store);
        try {
          expect(tollgate.logs).toContainEqual(
            expect.objectContaining({ reason: expect.stringMatching(/another process serves/), msg: expect.stringMatching(/^admin socket not served/) }),
          );
          expect((await admin(tollgate.url, 'GET', '/clients/stale-one')).status).toBe(200);
        } finally {
          await tollgate.close();
        }
        expect((await stat(path)).isSocket()).toBe(true);
      } finally {
        await new Promise((resolve) => other.close(resolve));
      }
    });
  });

  // On the same store, once the servers of the tests above have stopped.
  describe('the admin CLI beside a running server', () => {
    let dir: string;
    let store: CliStore;
    let tollgate: TestTollgate | undefined;
    const cli = (...args: string[]) => runAdmin(socketOnly(store), args);

    beforeAll(async () => {
      store = fresh.store();
      dir = join(store.dataDir, '..');
      tollgate = await startOn(store);
    });
    afterAll(() => tollgate?.close());

    it('listens on a socket of mode 0600 in a folder of mode 0700', async () => {
      const path = adminSocketPath(store.dataDir);
      const socket = await stat(path);
      expect(socket.isSocket()).toBe(true);
      expect(socket.mode & 0o777).toBe(0o600);
      expect((await stat(join(path, '..'))).mode & 0o777).toBe(0o700);
      expect(tollgate!.logs).toContainEqual(expect.objectContaining({ path, msg: expect.stringMatching(/^admin socket listening/) }));
    });

    it('creates a client while the server runs; the server issues it tokens at once, and audits the CLI as the actor', async () => {
      const created = await cli('client', 'create', '--id', 'sock-billing', '--scope', 'read');
      expect(created.code, created.stderr).toBe(0);
      expect(created.stderr).toBe('');
      expect(created.json).toMatchObject({ client_id: 'sock-billing', scope: 'read' });
      const token = await clientCredentialsToken(tollgate!.url, 'sock-billing', created.json.client_secret as string);
      expect(token.status, JSON.stringify(token.body)).toBe(200);

      const trail = await admin(tollgate!.url, 'GET', '/audit?type=client.created&client_id=sock-billing');
      expect(trail.body.events).toEqual([expect.objectContaining({ actor: cliActor(), outcome: 'success' })]);
    });

    it('runs every family of commands through the socket', async () => {
      const user = await cli('user', 'create', 'sock-ann', '--email', 'ann@example.com');
      expect(user.code, user.stderr).toBe(0);
      expect((await cli('user', 'get', 'ANN@example.com')).json.id).toBe(user.json.id);
      expect((await cli('user', 'delete', 'sock-ann')).json).toEqual({ id: user.json.id, deleted: true });
      const listed = await cli('audit', 'list', '--subject', user.json.id as string);
      expect((listed.json.events as { type: string }[]).map((event) => event.type).sort()).toEqual(['user.created', 'user.deleted']);
      expect((await cli('audit', 'prune', '--older-than-days', '36500')).json).toEqual({ deleted: 0 });
    });

    it('names the option that sets a field the server refuses', async () => {
      expectFailure(
        await cli('client', 'update', 'sock-billing', '--grant-type', 'authorization_code'),
        64,
        /^tollgate-admin: redirect_uris: authorization_code requires at least one redirect URI \(--redirect-uri\)$/,
      );
      expectFailure(
        await cli('client', 'update', 'sock-billing', '--default-scope', 'write'),
        1,
        /^tollgate-admin: default_scope must be a subset of scope \(--default-scope\)$/,
      );
      expectFailure(await cli('client', 'create', '--id', 'sock-billing'), 1, /^tollgate-admin: client sock-billing already exists \(--id\)$/);
      expectFailure(
        await cli('client', 'update', 'sock-billing', '--auth-method', 'none'),
        1,
        /^tollgate-admin: a client cannot change between public \(none\) and confidential: register a new client \(--auth-method\)$/,
      );
      // A field the command has no option for is named as the API names it, and no option is made up.
      const app = await cli(
        'client',
        'create',
        '--id',
        'sock-app',
        '--auth-method',
        'none',
        '--grant-type',
        'authorization_code',
        '--redirect-uri',
        'https://app.example/cb',
      );
      expect(app.code, app.stderr).toBe(0);
      expectFailure(await cli('client', 'rotate-secret', 'sock-app'), 1, /^tollgate-admin: a public client \(token_endpoint_auth_method none\) has no secret$/);
      expectFailure(await cli('user', 'update', 'nobody-here', '--disabled', 'true'), 1, /^tollgate-admin: user nobody-here not found$/);
    });

    // test/integration/admin-cli.test.ts runs the entry point with no server, succeeding.
    it('runs as the real entry point against the socket, exiting with the status of the failure it prints', { timeout: 120_000 }, async () => {
      expectFailure(await spawnCli(socketOnly(store), dir, ['client', 'get', 'sock-nobody']), 1, /^tollgate-admin: client sock-nobody not found$/);
    });

    it("recovers a lost admin secret: the admin client's new secret works over HTTP at once", async () => {
      const rotated = await cli('client', 'rotate-secret', ADMIN_CLIENT_ID);
      expect(rotated.code, rotated.stderr).toBe(0);
      const secret = rotated.json.client_secret as string;
      const token = await clientCredentialsToken(tollgate!.url, ADMIN_CLIENT_ID, secret, 'admin');
      expect(token.status, JSON.stringify(token.body)).toBe(200);
      expect((await admin(tollgate!.url, 'GET', '/clients/sock-billing', undefined, token.body.access_token as string)).status).toBe(200);
      // The lost one stops at once (no overlap asked for).
      expect((await clientCredentialsToken(tollgate!.url, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, 'admin')).status).toBe(401);
    });

    it('prints the same output and errors with no server running, through the database', async () => {
      const commands = [
        ['client', 'get', 'sock-billing'],
        ['client', 'list', '--limit', '2'],
        ['client', 'update', 'sock-billing', '--default-scope', 'write'],
        ['client', 'rotate-secret', 'sock-app'],
      ];
      const viaSocket = [];
      for (const args of commands) viaSocket.push(await cli(...args));
      await tollgate!.close();
      tollgate = undefined;
      // Removed on shutdown.
      expect(existsSync(adminSocketPath(store.dataDir))).toBe(false);
      for (const [i, args] of commands.entries()) {
        const direct = await runAdmin(store.env, args);
        expect(direct, args.join(' ')).toEqual(viaSocket[i]);
      }
    });
  });
});

describe('a DATA_DIR too deep for a Unix socket path', () => {
  it('is no socket to the CLI, which then opens the database, and the server says why it serves none', async () => {
    const deep = join(tmpdir(), 'd'.repeat(120));
    expect(await findAdminSocket(deep)).toBeUndefined();
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-socket-'));
    try {
      const server = createHttpServer();
      await expect(listenOnAdminSocket(server, join(dir, 'd'.repeat(120)))).rejects.toThrow(/too long for a Unix socket .*use a shorter DATA_DIR/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
