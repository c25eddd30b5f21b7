import { createUserInput, listUsersInput, updateUserInput } from '../users/schema.js';
import type { UserService } from '../users/service.js';
import { consentListSchema, consentView, userPageSchema, userView, userViewSchema } from '../users/views.js';
import { adminRoute, type AdminRoute } from './routes.js';

/** /admin/users: the admin API's user routes. Passwords go in, never out. `root`: the issuer's path, for Location. */
export function userRoutes(users: UserService, root = ''): AdminRoute[] {
  return [
    adminRoute({
      method: 'post',
      path: '/users',
      summary: 'Create a user',
      body: createUserInput,
      status: 201,
      response: userViewSchema,
      errors: [409],
      async handle(ctx, { body }) {
        const user = await users.create(body);
        ctx.set('Location', `${root}/admin/users/${user.id}`);
        return userView(user);
      },
    }),
    adminRoute({
      method: 'get',
      path: '/users',
      summary: 'List users',
      query: listUsersInput,
      status: 200,
      response: userPageSchema,
      async handle(_ctx, { query }) {
        const { users: page, nextCursor } = await users.list(query);
        return { users: page.map(userView), next_cursor: nextCursor };
      },
    }),
    adminRoute({
      method: 'get',
      path: '/users/:id',
      summary: 'Get a user',
      description: 'By id, or by username or email address (case-insensitive).',
      status: 200,
      response: userViewSchema,
      errors: [404],
      handle: async (ctx) => userView(await users.find(ctx.params.id!)),
    }),
    adminRoute({
      method: 'patch',
      path: '/users/:id',
      summary: 'Change a user',
      body: updateUserInput,
      status: 200,
      response: userViewSchema,
      errors: [404, 409],
      handle: async (ctx, { body }) => userView(await users.update(ctx.params.id!, body)),
    }),
    adminRoute({
      method: 'delete',
      path: '/users/:id',
      summary: 'Delete a user',
      status: 204,
      errors: [404],
      handle: async (ctx) => users.remove(ctx.params.id!),
    }),
    adminRoute({
      method: 'get',
      path: '/users/:id/consents',
      summary: "List a user's consents",
      status: 200,
      response: consentListSchema,
      errors: [404],
      handle: async (ctx) => ({ consents: (await users.consents(ctx.params.id!)).map(consentView) }),
    }),
    adminRoute({
      method: 'delete',
      path: '/users/:id/consents/:clientId',
      summary: 'Revoke a consent',
      description: "Forgets the consent and revokes every token the user's grants gave the client.",
      status: 204,
      errors: [404],
      handle: (ctx) => users.revokeConsent(ctx.params.id!, ctx.params.clientId!),
    }),
  ];
}
