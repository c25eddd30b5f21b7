// A record another request deletes between a write's read of it and its write: the later request
// answers as it would a moment later, never with a 500 (Prisma's "record to update or delete does
// not exist", or a foreign key failing): 404 for the record itself, 400 for a resource server a
// client was to be linked to, a failed console sign-in for its user, an expired sign-in for a
// consent whose user or application is gone. The concurrent delete is put
// in that gap deterministically, run right after the server's query that reads the record returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PrismaClient } from '../../src/db/database.js';
import { admin, adminToken, expectError, registerClient, type HttpResult } from '../helpers/oauth.js';
import { BrowserAgent, csrfOf, pkcePair } from '../helpers/browser-agent.js';
import { signInToConsole } from '../helpers/console.js';
import { startTollgate, type TestTollgate } from '../helpers/tollgate.js';
import { createUser, PASSWORD, REDIRECT_URI, registerAppClient } from '../helpers/users.js';

let tollgate: TestTollgate;
/** Calls the admin API as its administrator. */
let api: (method: string, path: string, body?: unknown) => Promise<HttpResult>;

beforeAll(async () => {
  tollgate = await startTollgate();
  const token = await adminToken(tollgate.url);
  api = (method, path, body) => admin(tollgate.url, method, path, body, token);
});
afterAll(() => tollgate?.close());

interface Query {
  model?: string;
  operation: string;
  args: unknown;
}

/** The first query that names the record with this id: a write's read of it. */
const lookupOf =
  (id: string) =>
  ({ args }: Query) =>
    (args as { where?: { id?: unknown } } | undefined)?.where?.id === id;

/**
 * Sends `request` and, right after the server's first query that `after` picks, deletes a record
 * through the admin API at `deletePath`: another request's delete landing between the request's
 * read and its write. Returns both answers.
 */
async function racingDelete<T>(deletePath: string, after: (query: Query) => boolean, request: () => Promise<T>) {
  const db = tollgate.db as { prisma: PrismaClient };
  const own = db.prisma;
  let deleted: Promise<HttpResult> | undefined;
  db.prisma = own.$extends({
    query: {
      $allModels: {
        async $allOperations({ model, operation, args, query }) {
          const found = await query(args);
          if (!deleted && after({ model, operation, args })) {
            db.prisma = own;
            deleted = api('DELETE', deletePath);
            await deleted;
          }
          return found;
        },
      },
    },
  }) as unknown as PrismaClient;
  try {
    const answer = await request();
    expect(deleted, 'the request read the record').toBeDefined();
    return { answer, deleted: await deleted! };
  } finally {
    db.prisma = own;
  }
}

/** The race lost: 404 not_found naming the record, the delete done, the record still gone. */
async function expectGone({ answer, deleted }: { answer: HttpResult; deleted: HttpResult }, what: string, path: string) {
  expect(deleted.status, JSON.stringify(deleted.body)).toBe(204);
  expectError(answer, 404);
  expect(answer.body).toEqual({ error: 'not_found', error_description: `${what} not found` });
  expect((await api('GET', path)).status).toBe(404);
}

describe('a user deleted meanwhile', () => {
  it('is not found by a change of password', async () => {
    const { id } = await createUser(tollgate.url);
    const race = await racingDelete(`/users/${id}`, lookupOf(id), () => api('PATCH', `/users/${id}`, { password: `${PASSWORD} again` }));
    await expectGone(race, `user ${id}`, `/users/${id}`);
  });

  it('is not found by a change that disables it', async () => {
    const { id } = await createUser(tollgate.url);
    const race = await racingDelete(`/users/${id}`, lookupOf(id), () => api('PATCH', `/users/${id}`, { disabled: true, admin: true }));
    await expectGone(race, `user ${id}`, `/users/${id}`);
  });

  it('is not found by a second delete', async () => {
    const { id } = await createUser(tollgate.url);
    const race = await racingDelete(`/users/${id}`, lookupOf(id), () => api('DELETE', `/users/${id}`));
    await expectGone(race, `user ${id}`, `/users/${id}`);
  });

  it('has no consent left to revoke', async () => {
    const { id } = await createUser(tollgate.url);
    const { client_id } = await registerClient(tollgate.url);
    const race = await racingDelete(`/users/${id}`, lookupOf(id), () => api('DELETE', `/users/${id}/consents/${client_id}`));
    await expectGone(race, `consent of user ${id} for client ${client_id}`, `/users/${id}`);
  });
});

describe('a client deleted meanwhile', () => {
  it('is not found by a change', async () => {
    const { client_id: id } = await registerClient(tollgate.url);
    const race = await racingDelete(`/clients/${id}`, lookupOf(id), () => api('PATCH', `/clients/${id}`, { client_name: 'renamed', disabled: true }));
    await expectGone(race, `client ${id}`, `/clients/${id}`);
  });

  it('is not found by a secret rotation', async () => {
    const { client_id: id } = await registerClient(tollgate.url);
    const race = await racingDelete(`/clients/${id}`, lookupOf(id), () => api('POST', `/clients/${id}/secret`, {}));
    await expectGone(race, `client ${id}`, `/clients/${id}`);
  });

  it('is not found by a second delete', async () => {
    const { client_id: id } = await registerClient(tollgate.url);
    const race = await racingDelete(`/clients/${id}`, lookupOf(id), () => api('DELETE', `/clients/${id}`));
    await expectGone(race, `client ${id}`, `/clients/${id}`);
  });
});

async function createResourceServer(): Promise<string> {
  const created = await api('POST', '/resource-servers', { identifier: `https://api-${Math.random().toString(36).slice(2)}.example`, name: 'API' });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as string;
}

describe('a resource server deleted meanwhile', () => {
  it('is not found by a change', async () => {
    const id = await createResourceServer();
    const race = await racingDelete(`/resource-servers/${id}`, lookupOf(id), () =>
      api('PATCH', `/resource-servers/${id}`, { name: 'renamed', scopes: ['read'] }),
    );
    await expectGone(race, `resource server ${id}`, `/resource-servers/${id}`);
  });

  it('is not found by a second delete', async () => {
    const id = await createResourceServer();
    const race = await racingDelete(`/resource-servers/${id}`, lookupOf(id), () => api('DELETE', `/resource-servers/${id}`));
    await expectGone(race, `resource server ${id}`, `/resource-servers/${id}`);
  });
});

describe('a resource server deleted while a client is linked to it', () => {
  it('is no resource server to link a new client to', async () => {
    const id = await createResourceServer();
    const race = await racingDelete(`/resource-servers/${id}`, lookupOf(id), () => api('POST', '/clients', { client_name: 'linked', resource_server_id: id }));
    expect(race.deleted.status).toBe(204);
    expectError(race.answer, 400, 'resource_server_id');
    expect(race.answer.body.error_description).toBe(`resource_server_id: no resource server ${id}`);
  });

  it('is no resource server to link a client to', async () => {
    const id = await createResourceServer();
    const { client_id } = await registerClient(tollgate.url);
    const race = await racingDelete(`/resource-servers/${id}`, lookupOf(id), () => api('PATCH', `/clients/${client_id}`, { resource_server_id: id }));
    expect(race.deleted.status).toBe(204);
    expectError(race.answer, 400, 'resource_server_id');
    expect(race.answer.body.error_description).toBe(`resource_server_id: no resource server ${id}`);
    expect((await api('GET', `/clients/${client_id}`)).body).not.toHaveProperty('resource_server_id');
  });
});

describe('a user deleted while signing in to the console', () => {
  it('has no console session opened: the sign-in fails', async () => {
    const { id, username } = await createUser(tollgate.url, { admin: true });
    const opening = ({ model, operation }: Query) => model === 'ConsoleSession' && operation === 'deleteMany';
    const race = await racingDelete(`/users/${id}`, opening, () => signInToConsole(tollgate.url, username, PASSWORD));
    expect(race.deleted.status).toBe(204);
    expect(race.answer.page.status).toBe(400);
    expect(race.answer.page.text).toContain('Sign-in failed');
    expect(await tollgate.db.prisma.consoleSession.count({ where: { userId: id } })).toBe(0);
  });
});

describe('a user or an application deleted while the consent page is open', () => {
  it('ends the sign-in as expired, remembering no consent and leaving no grant', async () => {
    for (const deleted of ['user', 'application'] as const) {
      const app = await registerAppClient(tollgate.url);
      const person = await createUser(tollgate.url);
      const agent = new BrowserAgent(tollgate.url);
      const query = new URLSearchParams({
        client_id: app.client_id,
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'read',
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      });
      const login = await agent.follow(`/auth?${query}`);
      const uid = /action="\/interaction\/([\w-]+)\/login"/.exec(login.text)![1]!;
      const signedIn = await agent.post(`/interaction/${uid}/login`, { csrf: csrfOf(login.text), login: person.username, password: PASSWORD });
      const consent = await agent.follow(signedIn.location!);
      const consentUid = /action="\/interaction\/([\w-]+)\/consent"/.exec(consent.text)![1]!;
      // Deleted after the consent is looked up, before it is written.
      const lookup = ({ model, operation }: Query) => model === 'Consent' && operation === 'findUnique';
      const race = await racingDelete(deleted === 'user' ? `/users/${person.id}` : `/clients/${app.client_id}`, lookup, () =>
        agent.post(`/interaction/${consentUid}/consent`, { csrf: csrfOf(consent.text), decision: 'allow', remember: 'yes' }),
      );
      expect(race.deleted.status, deleted).toBe(204);
      expect(race.answer.status, deleted).toBe(400);
      expect(race.answer.text).toContain('Sign-in expired');
      expect(await tollgate.db.prisma.consent.count({ where: { userId: person.id } })).toBe(0);
      expect(await tollgate.db.prisma.oidcPayload.count({ where: { model: 'Grant', accountId: person.id } })).toBe(0);
    }
  });
});
