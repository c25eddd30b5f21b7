import { createClientInput, listClientsInput, rotateSecretInput, updateClientInput } from '../clients/schema.js';
import type { ClientService } from '../clients/service.js';
import { clientPageSchema, clientView, clientViewSchema, clientWithSecretSchema, clientWithSecretView } from '../clients/views.js';
import { adminRoute, type AdminRoute } from './routes.js';

/** /admin/clients: the admin API's client routes. `root`: the issuer's path, for Location. */
export function clientRoutes(clients: ClientService, root = ''): AdminRoute[] {
  return [
    adminRoute({
      method: 'post',
      path: '/clients',
      summary: 'Register a client',
      description: 'Answers the client with its secret, shown this once (a public client, auth method none, has none).',
      body: createClientInput,
      status: 201,
      response: clientWithSecretSchema,
      errors: [409],
      async handle(ctx, { body }) {
        const created = await clients.create(body);
        ctx.set('Location', `${root}/admin/clients/${encodeURIComponent(created.client.id)}`);
        return clientWithSecretView(created);
      },
    }),
    adminRoute({
      method: 'get',
      path: '/clients',
      summary: 'List clients in client-id order',
      query: listClientsInput,
      status: 200,
      response: clientPageSchema,
      async handle(_ctx, { query }) {
        const { clients: page, nextCursor } = await clients.list(query);
        return { clients: page.map(clientView), next_cursor: nextCursor };
      },
    }),
    adminRoute({
      method: 'get',
      path: '/clients/:id',
      summary: 'Get a client',
      status: 200,
      response: clientViewSchema,
      errors: [404],
      handle: async (ctx) => clientView(await clients.get(ctx.params.id!)),
    }),
    adminRoute({
      method: 'patch',
      path: '/clients/:id',
      summary: 'Change a client',
      description: 'Setting disabled revokes its tokens in the same transaction.',
      body: updateClientInput,
      status: 200,
      response: clientViewSchema,
      errors: [404, 409],
      handle: async (ctx, { body }) => clientView(await clients.update(ctx.params.id!, body)),
    }),
    adminRoute({
      method: 'delete',
      path: '/clients/:id',
      summary: 'Delete a client; its tokens stop working at once',
      status: 204,
      errors: [404],
      handle: async (ctx) => clients.remove(ctx.params.id!),
    }),
    adminRoute({
      method: 'post',
      path: '/clients/:id/secret',
      summary: "Rotate a client's secret",
      description: 'The previous secret keeps working for overlap_seconds. Answers the client with its new secret, shown this once.',
      body: rotateSecretInput,
      status: 200,
      response: clientWithSecretSchema,
      errors: [404, 409],
      handle: async (ctx, { body }) => clientWithSecretView(await clients.rotateSecret(ctx.params.id!, body.overlap_seconds)),
    }),
  ];
}
