// A resource server's route rules: which of its requests pass the gateway check, and with which
// scopes. Rules are tried in order, the first that matches decides, and a request no rule matches
// is refused (deny by default). Plain functions over plain data, so they are tested without a server.
import { z } from 'zod';
import { STANDARD_METHODS } from '../http/errors.js';

/** A scope token (RFC 6749 §3.3). */
const scope = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, 'must be a scope token (printable ASCII, no space, quote or backslash)');
/** A host name or address, optionally with a port; `*.example.com` matches any subdomain of example.com. */
const host = z
  .string()
  .max(260)
  .regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i, 'must be a host name, optionally *. in front and :port after');
/** `/exact/path`, `/users/*` (`*`: one segment), `/api/**` (`**`, last only: the path itself and anything below it). */
const path = z
  .string()
  .max(1024)
  .regex(/^\/[\x21-\x7e]*$/, 'must start with / and hold printable ASCII without spaces')
  .refine((value) => !value.includes('?') && !value.includes('#'), 'must be a path, without query or fragment')
  .refine((value) => value.split('/').every((segment, i, all) => segment !== '**' || i === all.length - 1), '** may only be the last segment')
  .refine((value) => value.split('/').every((segment) => segment !== '.' && segment !== '..'), 'must not hold . or .. segments');

export const routeRule = z
  .strictObject({
    host: host.optional().describe('Only requests for this host (any port unless one is given); `*.example.com` for its subdomains.'),
    path: path.describe('`/exact`, `/users/*/photos` (`*`: one segment) or `/api/**` (the path and everything below it).'),
    methods: z.array(z.enum(STANDARD_METHODS as [string, ...string[]])).min(1).max(7).optional().describe('Only these methods; all when absent.'),
    scopes_all: z.array(scope).min(1).max(50).optional().describe('The token must carry every one of these scopes.'),
    scopes_any: z.array(scope).min(1).max(50).optional().describe('The token must carry at least one of these scopes.'),
    public: z.boolean().optional().describe('Passes without a token (no X-Auth-* headers then).'),
  })
  .refine((rule) => !(rule.public && (rule.scopes_all || rule.scopes_any)), { message: 'a public rule asks for no scopes', path: ['public'] });

export type RouteRule = z.output<typeof routeRule>;

export const routeRules = z.array(routeRule).max(500);

/** The body of GET and PUT /admin/resource-servers/{id}/routes, and of a rules file. */
export const routesDocument = z.strictObject({ routes: routeRules.describe('Tried in order; the first that matches decides; none matching: refused.') });

/** Rules as stored: checked when written; should a stored value not parse, no rule (deny). */
export function storedRules(value: unknown): RouteRule[] {
  return routeRules.safeParse(value).data ?? [];
}

/** The original request as rules see it. */
export interface RequestTarget {
  method: string;
  /** Host as sent (lower-cased here), maybe with a port. */
  host: string;
  /** The path's segments as readTarget (src/gateway/request-path.ts) reads them. */
  segments: readonly string[];
}

/** A rule, prepared once for matching many requests. */
export interface CompiledRule {
  rule: RouteRule;
  matches(target: RequestTarget): boolean;
}

/**
 * `caseSensitive`: the API behind tells `/Admin` from `/admin`. Most do, but many (IIS, Windows
 * file systems, case-insensitive routers) do not, so unless the resource server says its paths are
 * case-sensitive, paths are compared without regard to case: `/ADMIN` then meets `/admin`'s rule.
 */
export function compileRule(rule: RouteRule, { caseSensitive = false }: { caseSensitive?: boolean } = {}): CompiledRule {
  const fold = caseSensitive ? (value: string) => value : asciiLowerCase;
  const pattern = fold(rule.path).split('/');
  const rest = pattern.at(-1) === '**';
  const fixed = rest ? pattern.slice(0, -1) : pattern;
  const methods = rule.methods && new Set(rule.methods);
  const hostMatches = hostMatcher(rule.host);
  return {
    rule,
    matches({ method, host, segments }) {
      if (methods && !methods.has(method)) return false;
      if (!hostMatches(host)) return false;
      if (rest ? segments.length < fixed.length : segments.length !== fixed.length) return false;
      for (let i = 0; i < fixed.length; i += 1) if (fixed[i] !== '*' && fixed[i] !== fold(segments[i]!)) return false;
      // `/api/**` matches /api and below it, not /apix; `*` matches one non-empty segment.
      return fixed.every((part, i) => part !== '*' || segments[i] !== '');
    },
  };
}

/** Paths are ASCII once read (readTarget refuses the rest), so no Unicode case mapping (K, ſ) applies. */
function asciiLowerCase(value: string): string {
  return value.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

function hostMatcher(ruleHost: string | undefined): (host: string) => boolean {
  if (ruleHost === undefined) return () => true;
  const wanted = ruleHost.toLowerCase();
  const withPort = /:\d+$/.test(wanted);
  return (sent) => {
    const host = withPort ? sent : sent.replace(/:\d+$/, '');
    return wanted.startsWith('*.') ? host.endsWith(wanted.slice(1)) && host.length > wanted.length - 1 : host === wanted;
  };
}

/** The first rule that matches, or undefined: the request is refused. */
export function firstMatch(rules: readonly CompiledRule[], target: RequestTarget): RouteRule | undefined {
  for (const compiled of rules) if (compiled.matches(target)) return compiled.rule;
  return undefined;
}

/**
 * The scopes a token lacks for a rule, as the `scope` of an insufficient_scope challenge (RFC 6750
 * §3): every scope of `scopes_all` when one is missing, else those of `scopes_any` when none is held;
 * undefined when the token has what the rule asks.
 */
export function missingScopes(rule: RouteRule, granted: ReadonlySet<string>): string | undefined {
  if (rule.scopes_all && !rule.scopes_all.every((scope) => granted.has(scope))) return rule.scopes_all.join(' ');
  if (rule.scopes_any && !rule.scopes_any.some((scope) => granted.has(scope))) return rule.scopes_any.join(' ');
  return undefined;
}
