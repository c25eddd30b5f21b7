// The admin API's one route table: each route declares its method, path, input and answers once, and
// both the Koa router (adminApiRouter) and the OpenAPI document (src/admin/openapi.ts) are made from it.
import Router, { type RouterContext } from '@koa/router';
import type { z } from 'zod';
import { jsonBodies } from '../http/bodies.js';
import { HttpError } from '../http/errors.js';
import { parseInput } from '../http/validate.js';

type Schema = z.ZodType;
type Parsed<S> = S extends Schema ? z.output<S> : undefined;
// biome-ignore lint/suspicious/noConfusingVoidType: a route without a response schema answers 204, and its handler returns nothing.
type Answer<S> = S extends Schema ? z.output<S> : void;

/** A route under /admin, as the router runs it and the OpenAPI document describes it. */
export interface AdminRoute<
  B extends Schema | undefined = Schema | undefined,
  Q extends Schema | undefined = Schema | undefined,
  R extends Schema | undefined = Schema | undefined,
> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa's pattern below /admin, e.g. `/clients/:id`. */
  path: string;
  summary: string;
  description?: string;
  /** The JSON body, parsed with parseInput before `handle` runs. */
  body?: B;
  /** The query string, likewise. */
  query?: Q;
  /** The status of success, and its body's schema (none for 204). */
  status: 200 | 201 | 204;
  response?: R;
  /** Statuses of failure this route answers beyond those every admin route may (src/admin/openapi.ts). */
  errors?: readonly (404 | 409)[];
  handle(ctx: RouterContext, input: { body: Parsed<B>; query: Parsed<Q> }): Promise<Answer<R>>;
}

/** Declares a route, typing its handler by its schemas: what it gets in, what it must answer. */
export function adminRoute<B extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, R extends Schema | undefined = undefined>(
  route: AdminRoute<B, Q, R>,
): AdminRoute {
  return route as unknown as AdminRoute;
}

/**
 * Whether a path is the admin API's, in any spelling a router could match: the guard in front of
 * it (token, rate limit, audit) must see every request the router would answer.
 */
export function isAdminPath(path: string): boolean {
  return /^\/admin(\/|$)/i.test(path);
}

/** The admin API's router: the routes of `routes`, mounted behind requireAdminToken by the caller. */
export function adminApiRouter(routes: readonly AdminRoute[]): Router {
  // Case- and slash-sensitive, so a route answers only the one spelling of its path.
  const router = new Router({ prefix: '/admin', sensitive: true, strict: true });
  useAdminBodies(router);
  for (const route of routes) {
    router[route.method](route.path, async (ctx) => {
      const body = route.body ? parseInput(route.body, ctx.request.body) : undefined;
      const query = route.query ? parseInput(route.query, ctx.query) : undefined;
      const answer = await route.handle(ctx, { body, query });
      ctx.status = route.status;
      if (route.response) ctx.body = answer;
    });
  }
  return router;
}

/** What the admin router does first: JSON bodies only, parsed within the size and depth limits, never cached. */
function useAdminBodies(router: Router): void {
  router.use(async (ctx, next) => {
    if (['POST', 'PATCH', 'PUT'].includes(ctx.method) && ctx.request.length && !ctx.is('application/json')) {
      throw new HttpError(415, 'invalid_request', 'the admin API accepts application/json bodies only');
    }
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  router.use(jsonBodies());
}
