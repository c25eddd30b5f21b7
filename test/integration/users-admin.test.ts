// /admin/users and `npm run admin -- user …`: users are created, listed, changed and removed;
// passwords go in and never come out; bad input gets 400 naming the field.
import { describe, expect, it } from 'vitest';
import { cliActor } from '../../src/admin/local-api.js';
import { cliBesideServer, runAdmin, runStore } from '../helpers/admin-cli.js';
import { authorize } from '../helpers/browser-agent.js';
import { admin } from '../helpers/oauth.js';
import { PASSWORD, REDIRECT_URI, registerAppClient, signInForTokens } from '../helpers/users.js';

// One server for the file; the CLI runs beside it, through its admin socket.
const { tollgate, env } = cliBesideServer(runStore);
const api = (method: string, path: string, body?: unknown) => admin(tollgate().url, method, path, body);

describe('/admin/users', () => {
  it('creates, reads, lists, updates and deletes users, never showing a password or its hash', async () => {
    const created = await api('POST', '/users', { username: '  Dana.Smith ', email: 'DANA@example.com', password: 'a long enough passphrase' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: 'dana.smith',
      email: 'dana@example.com',
      disabled: false,
      admin: false,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const id = created.body.id as string;
    expect(created.headers.get('location')).toBe(`/admin/users/${id}`);
    expect(created.headers.get('cache-control')).toBe('no-store');

    expect((await api('GET', `/users/${id}`)).body).toEqual(created.body);
    const listed = await api('GET', '/users?limit=200');
    expect((listed.body.users as { id: string }[]).map((u) => u.id)).toContain(id);

    const updated = await api('PATCH', `/users/${id}`, { email: null, username: 'dana' });
    expect(updated.body).toMatchObject({ username: 'dana', disabled: false });
    expect(updated.body).not.toHaveProperty('email');

    const everything = JSON.stringify([created.body, listed.body, updated.body]);
    expect(everything).not.toMatch(/password|argon2/);
    const row = await tollgate().db.prisma.user.findUnique({ where: { id } });
    expect(row?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(tollgate().rawLogs()).not.toContain('a long enough passphrase');

    expect((await api('DELETE', `/users/${id}`)).status).toBe(204);
    expect((await api('GET', `/users/${id}`)).status).toBe(404);
    expect((await api('DELETE', `/users/${id}`)).status).toBe(404);
  });

  it('pages through users with a cursor', async () => {
    for (let i = 0; i < 3; i += 1) await api('POST', '/users', { username: `pager-${i}`, password: PASSWORD });
    const first = await api('GET', '/users?limit=2');
    expect(first.body.users).toHaveLength(2);
    const second = await api('GET', `/users?limit=2&cursor=${first.body.next_cursor}`);
    const ids = [...(first.body.users as { id: string }[]), ...(second.body.users as { id: string }[])].map((u) => u.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses a taken username or email with 409, case-insensitively', async () => {
    await api('POST', '/users', { username: 'taken', email: 'taken@example.com', password: PASSWORD });
    const cases: [Record<string, string>, string][] = [
      [{ username: 'TAKEN' }, 'username'],
      [{ username: 'other', email: 'Taken@Example.com' }, 'email'],
      [{ username: 'taken@example.com' }, 'username'],
    ];
    for (const [body, field] of cases) {
      const answer = await api('POST', '/users', { password: PASSWORD, ...body });
      expect(answer.status, JSON.stringify(body)).toBe(409);
      expect(answer.body.field).toBe(field);
    }
  });

  it.each([
    ['no username', { password: PASSWORD }, 'username'],
    ['a username with a space', { username: 'a b', password: PASSWORD }, 'username'],
    ['a username of 65 characters', { username: 'x'.repeat(65), password: PASSWORD }, 'username'],
    ['a short password', { username: 'shorty', password: 'short' }, 'password'],
    ['a password of 257 characters', { username: 'longpw', password: 'p'.repeat(257) }, 'password'],
    ['a password that is no string', { username: 'numeric', password: 12345678 }, 'password'],
    ['an email that is none', { username: 'bademail', email: 'not-an-email', password: PASSWORD }, 'email'],
    ['an unknown field', { username: 'extra', password: PASSWORD, role: 'admin' }, 'role'],
    ['a string disabled', { username: 'strdis', password: PASSWORD, disabled: 'yes' }, 'disabled'],
  ])('POST with %s is 400 naming the field', async (_what, body, field) => {
    const answer = await api('POST', '/users', body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_request', field });
  });

  it('answers 404 for ids no user can have, and 401 without the admin token', async () => {
    for (const id of ['nope', '%00', '00000000-0000-0000-0000-000000000000']) expect((await api('GET', `/users/${id}`)).status).toBe(404);
    expect((await api('GET', '/users?cursor=bad')).status).toBe(400);
    const anonymous = await fetch(`${tollgate().url}/admin/users`);
    expect(anonymous.status).toBe(401);
  });

  it('a new password ends the browser sign-in but not the apps’ tokens', async () => {
    const person = (await api('POST', '/users', { username: 'rotates', password: PASSWORD })).body as { id: string; username: string };
    const client = await registerAppClient(tollgate().url);
    const tokens = (await signInForTokens(tollgate().url, { client, user: person })).body as Record<string, string>;
    const flow = await authorize(tollgate().url, { clientId: client.client_id, redirectUri: REDIRECT_URI, login: person.username, password: PASSWORD });
    expect((await api('PATCH', `/users/${person.id}`, { password: 'a brand new password' })).status).toBe(200);
    // The same browser must sign in again, with the new password...
    await expect(
      authorize(tollgate().url, { agent: flow.agent, clientId: client.client_id, redirectUri: REDIRECT_URI, login: person.username, password: PASSWORD }),
    ).rejects.toThrow(/sign-in failed/);
    // ...while the application's refresh token still works.
    const refreshed = await fetch(`${tollgate().url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: client.client_id }),
    });
    expect(refreshed.status).toBe(200);
  });
});

describe('npm run admin -- user …', () => {
  const cli = (args: string[], stdin?: string) => runAdmin(env(), args, stdin);

  it('creates a user with a piped password, finds it by name, disables and deletes it', async () => {
    const created = await cli(['user', 'create', 'Erin', '--email', 'erin@example.com', '--password-stdin'], 'piped password 123\n');
    expect(created.code, created.stderr).toBe(0);
    expect(created.json).toMatchObject({ username: 'erin', email: 'erin@example.com', disabled: false });
    expect(created.stdout).not.toContain('piped password');
    expect(created.json).not.toHaveProperty('password');

    const byName = await cli(['user', 'get', 'ERIN@example.com']);
    expect(byName.json.id).toBe(created.json.id);
    const disabled = await cli(['user', 'update', 'erin', '--disabled', 'true']);
    expect(disabled.json).toMatchObject({ disabled: true });
    expect((await cli(['user', 'consents', 'erin'])).json).toEqual({ consents: [] });
    const listed = (await cli(['user', 'list', '--limit', '200'])).json;
    expect((listed.users as { id: string }[]).map((user) => user.id)).toContain(created.json.id);
    expect(listed).toEqual((await api('GET', '/users?limit=200')).body);
    const removed = await cli(['user', 'delete', 'erin']);
    expect(removed.code).toBe(0);
    expect(removed.json).toEqual({ id: created.json.id, deleted: true });
    const gone = await cli(['user', 'get', 'erin']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('tollgate-admin: user erin not found');

    // Each change is in the audit trail as the admin API records it, the user as its subject.
    const trail = (await cli(['audit', 'list', '--subject', created.json.id as string])).json.events as { type: string; actor: string }[];
    expect(trail.map((event) => event.type).sort()).toEqual(['user.created', 'user.deleted', 'user.updated']);
    for (const event of trail) expect(event.actor).toBe(cliActor());
  });

  it('grants and revokes the admin role that lets a user sign in to the console', async () => {
    const created = await cli(['user', 'create', 'grace', '--admin']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json).toMatchObject({ username: 'grace', admin: true });
    expect((await cli(['user', 'update', 'grace', '--admin', 'false'])).json).toMatchObject({ admin: false });
    expect((await cli(['user', 'update', 'grace', '--admin', 'true'])).json).toMatchObject({ admin: true });
    const wrong = await cli(['user', 'update', 'grace', '--admin', 'maybe']);
    expect(wrong.code).toBe(64);
    expect(wrong.stderr).toContain('(--admin)');
    expect((await cli(['user', 'delete', 'grace'])).code).toBe(0);
  });

  it('generates and shows a password once when none is piped', async () => {
    const created = await cli(['user', 'create', 'frank']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json.password).toMatch(/^[\w-]{43}$/);
    expect((await cli(['user', 'get', 'frank'])).json).not.toHaveProperty('password');
  });

  it.each([
    [['user', 'create', 'has space'], /username.*USERNAME/],
    [['user', 'create', 'gina', '--email', 'nope'], /email.*--email/],
    [['user', 'create', 'gina', '--password-stdin'], /password.*at least 8/],
    [['user', 'update', 'x', '--disabled', 'maybe'], /disabled.*--disabled/],
    [['user', 'revoke-consent', 'x'], /usage: user revoke-consent USER CLIENT_ID/],
    [['user', 'frobnicate'], /unknown user command "frobnicate"/],
  ])('%j exits 64 with one line', async (args, expected) => {
    const run = await cli(args, 'short\n');
    expect(run.code, run.stderr).toBe(64);
    expect(run.stderr.split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(expected);
  });
});
