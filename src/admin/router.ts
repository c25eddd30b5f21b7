import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { createClientInput, listClientsInput, rotateSecretInput, updateClientInput } from '../clients/schema.js';
import type { ClientService } from '../clients/service.js';
import { clientView } from '../clients/views.js';
import { HttpError } from '../http/errors.js';
import { MAX_BODY_BYTES } from '../http/pipeline.js';
import { parseInput } from '../http/validate.js';

/** The admin API's routes; the caller mounts them behind requireAdminToken. `root`: the issuer's path, for Location. */
export function adminRouter(clients: ClientService, root = ''): Router {
  const router = new Router({ prefix: '/admin' });
  useAdminBodies(router);

  router.post('/clients', async (ctx) => {
    const { client, secret } = await clients.create(parseInput(createClientInput, ctx.request.body));
    ctx.status = 201;
    ctx.set('Location', `${root}/admin/clients/${encodeURIComponent(client.id)}`);
    // RFC 7591 §3.2.1: client_secret_expires_at 0 means the secret does not expire; a public client has neither.
    ctx.body = { ...clientView(client), ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}) };
  });

  router.get('/clients', async (ctx) => {
    const { clients: page, nextCursor } = await clients.list(parseInput(listClientsInput, ctx.query));
    ctx.body = { clients: page.map(clientView), next_cursor: nextCursor };
  });

  router.get('/clients/:id', async (ctx) => {
    ctx.body = clientView(await clients.get(ctx.params.id!));
  });

  router.patch('/clients/:id', async (ctx) => {
    ctx.body = clientView(await clients.update(ctx.params.id!, parseInput(updateClientInput, ctx.request.body)));
  });

  router.delete('/clients/:id', async (ctx) => {
    await clients.remove(ctx.params.id!);
    ctx.status = 204;
  });

  router.post('/clients/:id/secret', async (ctx) => {
    const { overlap_seconds } = parseInput(rotateSecretInput, ctx.request.body);
    const { client, secret } = await clients.rotateSecret(ctx.params.id!, overlap_seconds);
    ctx.body = { ...clientView(client), client_secret: secret, client_secret_expires_at: 0 };
  });

  return router;
}

/** What every admin router does first: JSON bodies only, parsed within the size limit, never cached. */
export function useAdminBodies(router: Router): void {
  router.use(async (ctx, next) => {
    if (['POST', 'PATCH', 'PUT'].includes(ctx.method) && ctx.request.length && !ctx.is('application/json')) {
      throw new HttpError(415, 'invalid_request', 'the admin API accepts application/json bodies only');
    }
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  router.use(bodyParser({ enableTypes: ['json'], jsonLimit: MAX_BODY_BYTES, encoding: 'utf-8' }));
}
