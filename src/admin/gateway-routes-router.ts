import { routesDocument } from '../resource-servers/route-rules.js';
import type { ResourceServerService } from '../resource-servers/service.js';
import { adminRoute, type AdminRoute } from './routes.js';

/** /admin/resource-servers/:id/routes: the rules the gateway check applies to a resource server's requests (docs/gateway.md). */
export function gatewayRouteRoutes(resourceServers: ResourceServerService): AdminRoute[] {
  return [
    adminRoute({
      method: 'get',
      path: '/resource-servers/:id/routes',
      summary: "Get a resource server's gateway route rules",
      status: 200,
      response: routesDocument,
      errors: [404],
      handle: async (ctx) => ({ routes: await resourceServers.routes(ctx.params.id!) }),
    }),
    adminRoute({
      method: 'put',
      path: '/resource-servers/:id/routes',
      summary: "Replace a resource server's gateway route rules",
      description: 'The whole list at once; every instance applies it within a second. An empty list refuses every request.',
      body: routesDocument,
      status: 200,
      response: routesDocument,
      errors: [404],
      handle: async (ctx, { body }) => ({ routes: await resourceServers.setRoutes(ctx.params.id!, body.routes) }),
    }),
  ];
}
