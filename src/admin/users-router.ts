import Router from '@koa/router';
import { parseInput } from '../http/validate.js';
import { createUserInput, listUsersInput, updateUserInput } from '../users/schema.js';
import type { UserService } from '../users/service.js';
import { consentView, userView } from '../users/views.js';
import { useAdminBodies } from './router.js';

/** /admin/users: the admin API's user routes (behind the same admin token as /admin/clients). Passwords go in, never out. */
export function adminUsersRouter(users: UserService, root = ''): Router {
  const router = new Router({ prefix: '/admin' });
  useAdminBodies(router);

  router.post('/users', async (ctx) => {
    const user = await users.create(parseInput(createUserInput, ctx.request.body));
    ctx.status = 201;
    ctx.set('Location', `${root}/admin/users/${user.id}`);
    ctx.body = userView(user);
  });

  router.get('/users', async (ctx) => {
    const { users: page, nextCursor } = await users.list(parseInput(listUsersInput, ctx.query));
    ctx.body = { users: page.map(userView), next_cursor: nextCursor };
  });

  router.get('/users/:id', async (ctx) => {
    ctx.body = userView(await users.get(ctx.params.id!));
  });

  router.patch('/users/:id', async (ctx) => {
    ctx.body = userView(await users.update(ctx.params.id!, parseInput(updateUserInput, ctx.request.body)));
  });

  router.delete('/users/:id', async (ctx) => {
    await users.remove(ctx.params.id!);
    ctx.status = 204;
  });

  router.get('/users/:id/consents', async (ctx) => {
    ctx.body = { consents: (await users.consents(ctx.params.id!)).map(consentView) };
  });

  // Forgets the consent and revokes every token the user's grants gave the client.
  router.delete('/users/:id/consents/:clientId', async (ctx) => {
    await users.revokeConsent(ctx.params.id!, ctx.params.clientId!);
    ctx.status = 204;
  });

  return router;
}
