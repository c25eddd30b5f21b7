// Refresh tokens: rotation on every use, reuse detection that ends the whole grant, a race of
// twenty refreshes with one token, the opt-in grace period, lifetimes, and revocation. Runs on the
// embedded store, and on PostgreSQL when DATABASE_URL is set.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { admin, postForm } from '../helpers/oauth.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, introspector, refresh, registerAppClient, signInForTokens, type AppClient, type TestUser } from '../helpers/users.js';

let tollgate: TestTollgate;
let introspect: (token: string) => Promise<Record<string, unknown>>;
let user: TestUser;

beforeAll(async () => {
  tollgate = await startTollgate();
  introspect = await introspector(tollgate.url);
  user = await createUser(tollgate.url);
});
afterAll(() => tollgate?.close());
afterEach(() => {
  vi.useRealTimers();
});

const tokensFor = async (client: AppClient, scope = 'read') => (await signInForTokens(tollgate.url, { client, user, scope })).body as Record<string, string>;
const reuseEvents = () => tollgate.logs.filter((line) => line.securityEvent === 'refresh_token.reuse_detected');

describe('rotation', () => {
  it('hands out a new refresh token on every use and retires the old one', async () => {
    const client = await registerAppClient(tollgate.url);
    const first = await tokensFor(client);
    expect(first).toMatchObject({ token_type: 'Bearer', scope: 'read', refresh_token: expect.any(String) });

    const second = await refresh(tollgate.url, client, first.refresh_token!);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).toEqual(expect.any(String));
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.access_token).not.toBe(first.access_token);

    const third = await refresh(tollgate.url, client, second.body.refresh_token as string);
    expect(third.status).toBe(200);
    expect(await introspect(second.body.refresh_token as string)).toEqual({ active: false });
    expect(await introspect(third.body.refresh_token as string)).toMatchObject({ active: true, client_id: client.client_id, sub: user.id });
    expect(await introspect(third.body.access_token as string)).toMatchObject({ active: true, sub: user.id, scope: 'read', token_type: 'Bearer' });
  });

  it('lets a refresh narrow the scope, never widen it', async () => {
    const client = await registerAppClient(tollgate.url);
    const tokens = await tokensFor(client, 'read write');
    const narrowed = await refresh(tollgate.url, client, tokens.refresh_token!, { scope: 'write' });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.scope).toBe('write');
    const widened = await refresh(tollgate.url, client, narrowed.body.refresh_token as string, { scope: 'read write admin' });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe('invalid_scope');
  });

  it('works for a confidential client, which authenticates with its secret', async () => {
    const client = await registerAppClient(tollgate.url, { token_endpoint_auth_method: 'client_secret_basic' });
    expect(client.client_secret).toEqual(expect.any(String));
    const tokens = await tokensFor(client);
    const refreshed = await refresh(tollgate.url, client, tokens.refresh_token!);
    expect(refreshed.status).toBe(200);
    // Another client cannot use it, and trying does not end the grant.
    const other = await registerAppClient(tollgate.url);
    const stolen = await refresh(tollgate.url, other, refreshed.body.refresh_token as string);
    expect(stolen.body.error).toBe('invalid_grant');
    expect((await refresh(tollgate.url, client, refreshed.body.refresh_token as string)).status).toBe(200);
  });

  it('issues no refresh token to a client without the refresh_token grant', async () => {
    const client = await registerAppClient(tollgate.url, { grant_types: ['authorization_code'] });
    const tokens = await tokensFor(client);
    expect(tokens.access_token).toEqual(expect.any(String));
    expect(tokens).not.toHaveProperty('refresh_token');
  });
});

describe('reuse detection', () => {
  it('revokes the whole grant when a used refresh token comes back, and records who and from where', async () => {
    const client = await registerAppClient(tollgate.url);
    const first = await tokensFor(client);
    const second = (await refresh(tollgate.url, client, first.refresh_token!)).body as Record<string, string>;
    const third = (await refresh(tollgate.url, client, second.refresh_token!)).body as Record<string, string>;
    expect(await introspect(third.access_token!)).toMatchObject({ active: true });
    const before = reuseEvents().length;

    const replay = await refresh(tollgate.url, client, first.refresh_token!);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');

    // Every token descended from the authorization is dead, the newest included.
    for (const token of [third.access_token!, third.refresh_token!, second.access_token!]) expect(await introspect(token)).toEqual({ active: false });
    expect((await refresh(tollgate.url, client, third.refresh_token!)).body.error).toBe('invalid_grant');

    const events = reuseEvents().slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ level: 40, clientId: client.client_id, accountId: user.id, grantId: expect.any(String), ip: '127.0.0.1' });
    expect(tollgate.rawLogs()).not.toContain(first.refresh_token);
  });

  it('leaves the user’s other grants alone', async () => {
    const client = await registerAppClient(tollgate.url);
    const victim = await tokensFor(client);
    const bystander = await tokensFor(client);
    await refresh(tollgate.url, client, victim.refresh_token!);
    await refresh(tollgate.url, client, victim.refresh_token!);
    expect(await introspect(bystander.access_token!)).toMatchObject({ active: true });
    expect((await refresh(tollgate.url, client, bystander.refresh_token!)).status).toBe(200);
  });

  it('gives exactly one of 20 concurrent refreshes with one token a new token; the rest invalid_grant', async () => {
    const client = await registerAppClient(tollgate.url);
    const tokens = await tokensFor(client);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(tollgate.url, client, tokens.refresh_token!)));

    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(19).fill(400)]);
    for (const loser of results.filter((r) => r.status === 400)) expect(loser.body.error).toBe('invalid_grant');

    // The losers are reuse: the grant is revoked, so not even the winner's tokens live on.
    const winner = results.find((r) => r.status === 200)!.body as Record<string, string>;
    expect(await introspect(winner.refresh_token!)).toEqual({ active: false });
    expect(await introspect(winner.access_token!)).toEqual({ active: false });
    expect((await refresh(tollgate.url, client, winner.refresh_token!)).status).toBe(400);
  });

  it('treats a reused authorization code the same way', async () => {
    const client = await registerAppClient(tollgate.url);
    const { authorize } = await import('../helpers/browser-agent.js');
    const { REDIRECT_URI, PASSWORD, tokenRequest } = await import('../helpers/users.js');
    const flow = await authorize(tollgate.url, {
      clientId: client.client_id,
      redirectUri: REDIRECT_URI,
      scope: 'read',
      login: user.username,
      password: PASSWORD,
    });
    const exchange = () =>
      tokenRequest(tollgate.url, client, { grant_type: 'authorization_code', code: flow.code!, redirect_uri: REDIRECT_URI, code_verifier: flow.verifier });
    const results = await Promise.all(Array.from({ length: 5 }, exchange));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400]);
    const winner = results.find((r) => r.status === 200)!.body as Record<string, string>;
    expect(await introspect(winner.access_token!)).toEqual({ active: false });
    expect(tollgate.logs.some((line) => line.securityEvent === 'authorization_code.reuse_detected')).toBe(true);
  });
});

describe('grace period', () => {
  it('honours a just-rotated token once inside the window, superseding the first answer', async () => {
    const client = await registerAppClient(tollgate.url, { refresh_token_reuse_grace: 30 });
    const tokens = await tokensFor(client);
    const lost = (await refresh(tollgate.url, client, tokens.refresh_token!)).body as Record<string, string>;

    const retry = await refresh(tollgate.url, client, tokens.refresh_token!);
    expect(retry.status).toBe(200);
    expect(retry.body.refresh_token).not.toBe(lost.refresh_token);
    // The lost answer's refresh token is dead; the retry's works.
    expect(await introspect(lost.refresh_token!)).toEqual({ active: false });
    const next = await refresh(tollgate.url, client, retry.body.refresh_token as string);
    expect(next.status).toBe(200);
    expect(tollgate.logs.some((line) => line.securityEvent === 'refresh_token.grace_used' && line.clientId === client.client_id)).toBe(true);
  });

  it('allows one retry only: a third use inside the window revokes the grant', async () => {
    const client = await registerAppClient(tollgate.url, { refresh_token_reuse_grace: 30 });
    const tokens = await tokensFor(client);
    await refresh(tollgate.url, client, tokens.refresh_token!);
    const retry = (await refresh(tollgate.url, client, tokens.refresh_token!)).body as Record<string, string>;
    expect((await refresh(tollgate.url, client, tokens.refresh_token!)).body.error).toBe('invalid_grant');
    expect(await introspect(retry.access_token!)).toEqual({ active: false });
  });

  it('revokes when the superseded token is used: someone else had the first answer', async () => {
    const client = await registerAppClient(tollgate.url, { refresh_token_reuse_grace: 30 });
    const tokens = await tokensFor(client);
    const first = (await refresh(tollgate.url, client, tokens.refresh_token!)).body as Record<string, string>;
    const retry = (await refresh(tollgate.url, client, tokens.refresh_token!)).body as Record<string, string>;
    expect((await refresh(tollgate.url, client, first.refresh_token!)).body.error).toBe('invalid_grant');
    expect(await introspect(retry.refresh_token!)).toEqual({ active: false });
  });

  it('does not apply once the first answer’s token was used', async () => {
    const client = await registerAppClient(tollgate.url, { refresh_token_reuse_grace: 30 });
    const tokens = await tokensFor(client);
    const first = (await refresh(tollgate.url, client, tokens.refresh_token!)).body as Record<string, string>;
    const second = (await refresh(tollgate.url, client, first.refresh_token!)).body as Record<string, string>;
    expect((await refresh(tollgate.url, client, tokens.refresh_token!)).body.error).toBe('invalid_grant');
    expect(await introspect(second.access_token!)).toEqual({ active: false });
  });

  it('revokes on reuse after the window', async () => {
    const client = await registerAppClient(tollgate.url, { refresh_token_reuse_grace: 5 });
    const tokens = await tokensFor(client);
    vi.useFakeTimers({ toFake: ['Date'] });
    const first = (await refresh(tollgate.url, client, tokens.refresh_token!)).body as Record<string, string>;
    vi.setSystemTime(Date.now() + 6_000);
    expect((await refresh(tollgate.url, client, tokens.refresh_token!)).body.error).toBe('invalid_grant');
    expect(await introspect(first.access_token!)).toEqual({ active: false });
    expect(reuseEvents().at(-1)).toMatchObject({ clientId: client.client_id, reason: 'used again after its grace period' });
  });
});

describe('lifetimes', () => {
  it('ends a family left unused for its idle lifetime', async () => {
    const client = await registerAppClient(tollgate.url, { refresh_token_idle_ttl: 120, refresh_token_absolute_ttl: 3600 });
    const tokens = await tokensFor(client);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 100_000);
    const kept = await refresh(tollgate.url, client, tokens.refresh_token!);
    expect(kept.status).toBe(200);
    // Each refresh starts a new idle period...
    vi.setSystemTime(Date.now() + 100_000);
    const again = await refresh(tollgate.url, client, kept.body.refresh_token as string);
    expect(again.status).toBe(200);
    // ...but one left longer than that is gone.
    vi.setSystemTime(Date.now() + 121_000);
    const late = await refresh(tollgate.url, client, again.body.refresh_token as string);
    expect(late.status).toBe(400);
    expect(late.body.error).toBe('invalid_grant');
  });

  it('ends a family at its absolute lifetime however often it is refreshed', async () => {
    const client = await registerAppClient(tollgate.url, { refresh_token_idle_ttl: 300, refresh_token_absolute_ttl: 400 });
    const tokens = await tokensFor(client);
    const start = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start + 250_000);
    const second = (await refresh(tollgate.url, client, tokens.refresh_token!)).body as Record<string, string>;
    const info = await introspect(second.refresh_token!);
    // Capped by the absolute lifetime, not 300 s from now.
    expect(info.exp as number).toBeLessThanOrEqual(Math.floor(start / 1000) + 402);
    vi.setSystemTime(start + 390_000);
    const third = await refresh(tollgate.url, client, second.refresh_token!);
    expect(third.status).toBe(200);
    vi.setSystemTime(start + 403_000);
    expect((await refresh(tollgate.url, client, third.body.refresh_token as string)).body.error).toBe('invalid_grant');
  });

  it('uses the server-wide lifetimes for clients without their own', async () => {
    const client = await registerAppClient(tollgate.url);
    const tokens = await tokensFor(client);
    const info = await introspect(tokens.refresh_token!);
    // REFRESH_TOKEN_IDLE_TTL defaults to 14 days.
    expect((info.exp as number) - (info.iat as number)).toBe(14 * 86400);
  });
});

describe('revocation', () => {
  it('revoking a refresh token (RFC 7009) ends the access tokens of its grant', async () => {
    const client = await registerAppClient(tollgate.url, { token_endpoint_auth_method: 'client_secret_basic' });
    const tokens = await tokensFor(client);
    const revoked = await postForm(tollgate.url, '/revoke', { token: tokens.refresh_token!, token_type_hint: 'refresh_token' }, [
      client.client_id,
      client.client_secret!,
    ]);
    expect(revoked.status).toBe(200);
    expect(await introspect(tokens.access_token!)).toEqual({ active: false });
    expect((await refresh(tollgate.url, client, tokens.refresh_token!)).body.error).toBe('invalid_grant');
  });

  it('disabling a user ends their grants at once; enabling does not bring them back', async () => {
    const client = await registerAppClient(tollgate.url);
    const person = await createUser(tollgate.url);
    const tokens = (await signInForTokens(tollgate.url, { client, user: person })).body as Record<string, string>;
    expect((await admin(tollgate.url, 'PATCH', `/users/${person.id}`, { disabled: true })).status).toBe(200);
    expect(await introspect(tokens.access_token!)).toEqual({ active: false });
    expect((await refresh(tollgate.url, client, tokens.refresh_token!)).body.error).toBe('invalid_grant');
    await admin(tollgate.url, 'PATCH', `/users/${person.id}`, { disabled: false });
    expect(await introspect(tokens.access_token!)).toEqual({ active: false });
  });

  it('deleting a client ends its grants at once', async () => {
    const client = await registerAppClient(tollgate.url);
    const tokens = await tokensFor(client);
    expect((await admin(tollgate.url, 'DELETE', `/clients/${client.client_id}`)).status).toBe(204);
    expect(await introspect(tokens.access_token!)).toEqual({ active: false });
    expect(await introspect(tokens.refresh_token!)).toEqual({ active: false });
  });

  it('taking refresh_token off a client stops its refresh tokens', async () => {
    const client = await registerAppClient(tollgate.url);
    const tokens = await tokensFor(client);
    await admin(tollgate.url, 'PATCH', `/clients/${client.client_id}`, { grant_types: ['authorization_code'] });
    const refused = await refresh(tollgate.url, client, tokens.refresh_token!);
    expect(refused.status).toBe(400);
    expect(refused.body, JSON.stringify(refused.body)).toMatchObject({ error: 'unauthorized_client' });
  });
});
