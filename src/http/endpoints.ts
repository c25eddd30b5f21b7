// Every endpoint Tollgate serves, declared once: its path, methods, the oidc-provider route it is,
// the discovery metadata that advertises it, the headers its answers carry, its rate-limit budgets,
// the audit event of its failed requests, and whether it has a handler of its own. Everything else
// is derived from this table: the provider's `routes`, the paths the provider is let serve, the
// paths that are their own label in the log and the metrics, the budgets' limits and variables
// (src/rate-limit/limits.ts, src/config/config.ts), and the request pipeline's endpoint tables
// (src/http/endpoint-table.ts), where the handlers are attached by id. docs/development.md#adding-an-endpoint.
// A leaf: it imports nothing, so that any layer may read it.

/** oidc-provider's configurable routes: the keys of Configuration['routes'] (src/oidc/provider.ts checks them). */
export const CONFIGURABLE_PROVIDER_ROUTES = [
  'authorization',
  'backchannel_authentication',
  'challenge',
  'code_verification',
  'credential',
  'device_authorization',
  'end_session',
  'introspection',
  'jwks',
  'pushed_authorization_request',
  'registration',
  'revocation',
  'token',
  'userinfo',
] as const;

/** oidc-provider's names of its routes: the configurable ones, and discovery. */
export type ProviderRoute = (typeof CONFIGURABLE_PROVIDER_ROUTES)[number] | typeof FIXED_ROUTE;

/** The route whose path oidc-provider fixes itself (it is no key of its `routes` configuration). */
const FIXED_ROUTE = 'discovery' as const;

type Headers = Readonly<Record<string, string>>;

/** What the configuration decides of the headers an endpoint's answers carry. */
export interface AnswerSettings {
  /** JWKS_CACHE_SECONDS. */
  jwksCacheSeconds: number;
}

/** RFC 6749 §5.1 (and RFC 7662 §4 for introspection): no answer of the token endpoints is cached, by HTTP/1.0 caches either. */
export const UNCACHED = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const satisfies Headers;

const READ = ['GET', 'HEAD'] as const;
/** Read by browsers' scripts too: CORS preflights (OPTIONS) are the provider's to answer. */
const READ_CORS = ['GET', 'HEAD', 'OPTIONS'] as const;
/** A token endpoint: form POSTs, and their CORS preflights. */
const FORM_POST = ['POST', 'OPTIONS'] as const;

export interface EndpointEntry {
  /** Below the issuer's path (/token for ISSUER/token). */
  path: string;
  /** The listener serving it: the issuer's, or GATEWAY_PORT's. */
  listener: 'issuer' | 'gateway';
  /** The methods it answers; another is 405 with Allow. None: any standard method, whoever answers decides. */
  methods?: readonly string[];
  /** The oidc-provider route it is; without one the provider never sees the path. */
  provider?: ProviderRoute;
  /** One segment below the path the provider serves too (the authorization endpoint resumes at /auth/<interaction id>). */
  resumes?: RegExp;
  /** The discovery metadata (RFC 8414 §2) that advertises it. */
  metadata?: string;
  /** Headers every answer of the path carries, whoever gives it. */
  headers?: Headers | ((settings: AnswerSettings) => Headers);
  /**
   * Its rate-limit budgets per window, by default: `<id>_client` and `<id>_ip`, each set by
   * RATE_LIMIT_<ID>_PER_CLIENT and RATE_LIMIT_<ID>_PER_IP (src/config/config.ts). The address's
   * counts every request the pipeline serves (the POSTs of a form endpoint); the client's counts the
   * requests a client authenticated, and makes a 401 count against the address's
   * client-authentication failures.
   */
  budgets?: { client?: number; ip: number };
  /** With a client budget: the audit event (src/audit/types.ts) a failed request is recorded as. */
  failureEvent?: string;
  /** A handler of Tollgate's own, attached by id: for form POSTs (the provider answers what it leaves), or for every request from its headers. */
  handler?: 'form' | 'headers';
  /** The paths below it are the endpoint's too (Envoy's ext_authz appends the original path), labelled `<path>/*`. */
  prefix?: boolean;
  /** Served outside the issuer's path too, with that path appended (RFC 8414 §3.1). */
  wellKnown?: boolean;
  /** Served only when the configuration says so: the endpoint table leaves it out otherwise. */
  optional?: boolean;
}

/**
 * The endpoints, by id. The id names an endpoint's budgets and is its `endpoint` label in the metrics of
 * the token endpoints' failures and own answers; requests are logged and counted by path.
 */
export const ENDPOINTS = {
  // A person's browser visits it, by GET or by a POSTed form (OpenID Connect Core §3.1.2.1): its methods are the provider's to check.
  authorization: { path: '/auth', listener: 'issuer', provider: 'authorization', resumes: /^[\w-]{1,64}$/, metadata: 'authorization_endpoint' },
  token: {
    path: '/token',
    listener: 'issuer',
    methods: FORM_POST,
    provider: 'token',
    metadata: 'token_endpoint',
    headers: UNCACHED,
    budgets: { client: 600, ip: 1200 },
    failureEvent: 'token.request_failed',
    handler: 'form',
  },
  jwks: {
    path: '/jwks',
    listener: 'issuer',
    methods: READ_CORS,
    provider: 'jwks',
    metadata: 'jwks_uri',
    // Verifiers may keep the key set this long: a new key is published at least as long before it signs.
    headers: ({ jwksCacheSeconds }) => ({ 'Cache-Control': `public, max-age=${jwksCacheSeconds}` }),
  },
  introspect: {
    path: '/introspect',
    listener: 'issuer',
    methods: FORM_POST,
    provider: 'introspection',
    metadata: 'introspection_endpoint',
    headers: UNCACHED,
    budgets: { client: 6000, ip: 12000 },
    failureEvent: 'token.introspected',
    handler: 'form',
  },
  revoke: {
    path: '/revoke',
    listener: 'issuer',
    methods: FORM_POST,
    provider: 'revocation',
    metadata: 'revocation_endpoint',
    headers: UNCACHED,
    budgets: { client: 600, ip: 1200 },
    failureEvent: 'token.revoked',
    handler: 'form',
  },
  openidConfiguration: { path: '/.well-known/openid-configuration', listener: 'issuer', methods: READ_CORS, provider: 'discovery' },
  // Served by src/oidc/discovery.ts from the provider's discovery document.
  authorizationServerMetadata: { path: '/.well-known/oauth-authorization-server', listener: 'issuer', methods: READ_CORS, wellKnown: true },
  healthz: { path: '/healthz', listener: 'issuer', methods: READ },
  readyz: { path: '/readyz', listener: 'issuer', methods: READ },
  // On the issuer's listener with METRICS_TOKEN and no METRICS_PORT.
  metrics: { path: '/metrics', listener: 'issuer', methods: READ, optional: true },
  gateway: { path: '/gateway/check', listener: 'gateway', budgets: { ip: 600_000 }, handler: 'headers', prefix: true },
} as const satisfies Record<string, EndpointEntry>;

type Registry = typeof ENDPOINTS;
export type EndpointId = keyof Registry;
export type Listener = EndpointEntry['listener'];

/** The endpoints of one listener. */
export type EndpointOf<L extends Listener> = { [K in EndpointId]: Registry[K]['listener'] extends L ? K : never }[EndpointId];

/** The endpoints with a handler of the given kind, on one listener. */
export type HandledBy<Kind extends 'form' | 'headers', L extends Listener> = {
  [K in EndpointOf<L>]: Registry[K] extends { handler: Kind } ? K : never;
}[EndpointOf<L>];

/** The endpoints whose requests authenticate clients, each with its request budget per client. */
export type ClientEndpoint = { [K in EndpointId]: Registry[K] extends { budgets: { client: number } } ? K : never }[EndpointId];

/** The rate limits the endpoints' budgets are: `token_ip`, `token_client`, … */
export type EndpointBudget = {
  [K in EndpointId]: Registry[K] extends { budgets: infer B } ? `${K}_${Extract<keyof B, string>}` : never;
}[EndpointId];

/** The environment variables that set the endpoints' budgets: RATE_LIMIT_TOKEN_PER_IP, … */
export type BudgetVariable = {
  [K in EndpointId]: Registry[K] extends { budgets: infer B } ? `RATE_LIMIT_${Uppercase<K>}_PER_${Uppercase<Extract<keyof B, string>>}` : never;
}[EndpointId];

const entries = Object.entries(ENDPOINTS) as [EndpointId, EndpointEntry][];

/** Each endpoint budget: its limit's name, the variable that sets it, its default and the variable's description. */
export const ENDPOINT_BUDGETS = entries.flatMap(([id, entry]) =>
  Object.entries(entry.budgets ?? {}).map(([scope, size]) => ({
    name: `${id}_${scope}` as EndpointBudget,
    variable: `RATE_LIMIT_${id.toUpperCase()}_PER_${scope.toUpperCase()}` as BudgetVariable,
    size,
    description: budgetDescription(entry, scope),
  })),
);

function budgetDescription({ listener, path }: EndpointEntry, scope: string): string {
  const requests = listener === 'gateway' ? `\`GATEWAY_PORT\`'s \`${path}\`` : `\`POST ${path}\``;
  const per = scope === 'client' ? 'per client' : listener === 'gateway' ? 'per calling address (a gateway)' : 'per source address';
  return `${requests} ${per}.`;
}

/** The provider routes Tollgate serves. */
type DeclaredRoute = { [K in EndpointId]: Registry[K] extends { provider: infer R extends ProviderRoute } ? R : never }[EndpointId];

/** The provider's `routes` configuration: where each of its routes Tollgate serves is. */
export const PROVIDER_ROUTES = Object.fromEntries(
  entries.flatMap(([, entry]) => (entry.provider && entry.provider !== FIXED_ROUTE ? [[entry.provider, entry.path]] : [])),
) as { [R in Exclude<DeclaredRoute, typeof FIXED_ROUTE>]: string };

/** The client endpoint an oidc-provider route is, if it is one. */
export const CLIENT_ENDPOINT_OF_ROUTE: ReadonlyMap<string, ClientEndpoint> = new Map(
  entries.flatMap(([id, entry]) => (entry.provider && entry.budgets?.client ? [[entry.provider, id as ClientEndpoint]] : [])),
);

/** The paths of the provider's routes Tollgate serves: everything else of the provider's never reaches it. */
export const SERVED_PROVIDER_PATHS: ReadonlySet<string> = new Set(entries.flatMap(([, entry]) => (entry.provider ? [entry.path] : [])));

const RESUMED = entries.flatMap(([, entry]) => (entry.provider && entry.resumes ? [{ prefix: `${entry.path}/`, segment: entry.resumes }] : []));

/** Whether a path is one of the provider's that Tollgate serves, the authorization endpoint's resume step included. */
export function isServedProviderPath(path: string): boolean {
  return SERVED_PROVIDER_PATHS.has(path) || RESUMED.some(({ prefix, segment }) => path.startsWith(prefix) && segment.test(path.slice(prefix.length)));
}

/** Whether a path is the endpoint's or below it (the authorization endpoint's resume step). */
export function isPathOf(id: EndpointId, path: string): boolean {
  return path === ENDPOINTS[id].path || path.startsWith(`${ENDPOINTS[id].path}/`);
}

/** The paths of a listener that are their own label in the log and the metrics. */
export function knownPaths(listener: Listener): ReadonlySet<string> {
  return new Set(entries.flatMap(([, entry]) => (entry.listener === listener ? [entry.path] : [])));
}

/** The paths of a listener also served outside the issuer's path, with it appended. */
export function wellKnownPaths(listener: Listener): string[] {
  return entries.flatMap(([, entry]) => (entry.listener === listener && entry.wellKnown ? [entry.path] : []));
}

/** The discovery metadata that advertises the endpoints (the provider fills in their URLs). */
export const ADVERTISED_ENDPOINTS: readonly string[] = entries.flatMap(([, entry]) => (entry.metadata ? [entry.metadata] : []));
