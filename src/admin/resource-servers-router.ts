import { createResourceServerInput, listResourceServersInput, updateResourceServerInput } from '../resource-servers/schema.js';
import type { ResourceServerService } from '../resource-servers/service.js';
import { resourceServerPageSchema, resourceServerView, resourceServerViewSchema } from '../resource-servers/views.js';
import { adminRoute, type AdminRoute } from './routes.js';

/** /admin/resource-servers: the APIs tokens are issued for. `root`: the issuer's path, for Location. */
export function resourceServerRoutes(resourceServers: ResourceServerService, root = ''): AdminRoute[] {
  return [
    adminRoute({
      method: 'post',
      path: '/resource-servers',
      summary: 'Register a resource server',
      description: 'Clients then ask for its tokens with resource=<identifier> (RFC 8707); the answer carries the id the other paths use.',
      body: createResourceServerInput,
      status: 201,
      response: resourceServerViewSchema,
      errors: [409],
      async handle(ctx, { body }) {
        const server = await resourceServers.create(body);
        ctx.set('Location', `${root}/admin/resource-servers/${server.id}`);
        return resourceServerView(server);
      },
    }),
    adminRoute({
      method: 'get',
      path: '/resource-servers',
      summary: 'List resource servers in id order',
      query: listResourceServersInput,
      status: 200,
      response: resourceServerPageSchema,
      async handle(_ctx, { query }) {
        const { resourceServers: page, nextCursor } = await resourceServers.list(query);
        return { resource_servers: page.map(resourceServerView), next_cursor: nextCursor };
      },
    }),
    adminRoute({
      method: 'get',
      path: '/resource-servers/:id',
      summary: 'Get a resource server',
      status: 200,
      response: resourceServerViewSchema,
      errors: [404],
      handle: async (ctx) => resourceServerView(await resourceServers.get(ctx.params.id!)),
    }),
    adminRoute({
      method: 'patch',
      path: '/resource-servers/:id',
      summary: 'Change a resource server',
      description:
        'Applies to tokens issued from then on; tokens already issued lose at once the scopes it no longer defines, and end if its identifier changes.',
      body: updateResourceServerInput,
      status: 200,
      response: resourceServerViewSchema,
      errors: [404, 409],
      handle: async (ctx, { body }) => resourceServerView(await resourceServers.update(ctx.params.id!, body)),
    }),
    adminRoute({
      method: 'delete',
      path: '/resource-servers/:id',
      summary: 'Delete a resource server',
      description: 'Clients stop getting tokens for it at once; clients linked to it lose the link.',
      status: 204,
      errors: [404],
      handle: async (ctx) => resourceServers.remove(ctx.params.id!),
    }),
  ];
}
