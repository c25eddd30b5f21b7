// What a request is logged and counted as: a label made from the path alone, by the tables that
// declare the paths, so that every answer of a route carries its pattern whoever gave it (the
// pipeline's body checks, the admin guard, body parsing, the router, a page's session check).
import type Router from '@koa/router';

/** A request's label: a known path or a route's pattern; undefined for a path no table declares. */
export type RequestLabels = (path: string) => string | undefined;

export interface LabelSources {
  /** Paths that are their own label. */
  known: Iterable<string>;
  /** Paths whose sub-paths share the label `<prefix>/*` (the gateway check's Envoy form). */
  prefixes?: Iterable<string>;
  /** Routers whose route patterns label their paths; a path under a router's prefix that none matches is `<prefix>/*`. */
  routers?: readonly Router[];
}

/**
 * The one derivation of request labels. Nothing a client puts in a path becomes a label: a label is
 * a declared path, a declared pattern, or a declared prefix with `/*`.
 */
export function requestLabels({ known, prefixes = [], routers = [] }: LabelSources): RequestLabels {
  const paths = new Set(known);
  const tables = [
    ...[...prefixes].map((prefix) => ({ prefix, routes: [] as RoutePattern[] })),
    ...routers.map((router) => ({ prefix: router.opts.prefix ?? '', routes: routePatterns(router) })),
  ];
  return (path) => {
    if (paths.has(path)) return path;
    for (const { prefix, routes } of tables) {
      // Any spelling of the prefix a case-insensitive guard would answer (/Admin/…) is the router's.
      if (!isUnder(path, prefix)) continue;
      return routes.find((route) => route.match(path))?.pattern ?? `${prefix}/*`;
    }
    return undefined;
  };
}

interface RoutePattern {
  pattern: string;
  match(path: string): boolean;
}

/** A router's routes (its `use` middleware has no methods and no pattern of its own), in the order it tries them. */
function routePatterns(router: Router): RoutePattern[] {
  return router.stack
    .filter((layer) => layer.methods.length > 0 && typeof layer.path === 'string')
    .map((layer) => ({ pattern: layer.path as string, match: (path: string) => layer.match(path) }));
}

function isUnder(path: string, prefix: string): boolean {
  if (path.length < prefix.length || path.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return false;
  return path.length === prefix.length || path[prefix.length] === '/';
}
