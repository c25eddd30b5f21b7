// A resource server's route rules: which of its requests pass the gateway check, and with which
// scopes. Rules are tried in order, the first that matches decides, and a request no rule matches
// is refused (deny by default). Plain functions over plain data, so they are tested without a server.
import { z } from 'zod';
import { STANDARD_METHODS } from '../http/errors.js';
import { AmbiguousTarget, readPath } from '../http/request-path.js';

/** A scope token (RFC 6749 §3.3). */
const scope = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, 'must be a scope token (printable ASCII, no space, quote or backslash)');
/** A host name or address, optionally with a port; `*.example.com` matches any subdomain of example.com. */
const host = z
  .string()
  .max(260)
  .regex(
    /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i,
    'must be a host name, optionally *. in front and :port after',
  );
/** `/exact/path`, `/users/*` (`*`: one segment), `/api/**` (`**`, last only: the path itself and anything below it). */
const path = z
  .string()
  .max(1024)
  .regex(/^\/[\x21-\x7e]*$/, 'must start with / and hold printable ASCII without spaces')
  .refine((value) => !value.includes('?') && !value.includes('#'), 'must be a path, without query or fragment')
  .refine((value) => value.split('/').every((segment, i, all) => segment !== '**' || i === all.length - 1), '** may only be the last segment')
  .superRefine((value, context) => {
    // A rule no request could match, since requests are read this way (`/a;b`, `/x.`, `/a%2Fb`).
    const problem = pathProblem(value);
    if (problem) context.addIssue({ code: 'custom', message: `is never matched: ${problem}` });
  });

function pathProblem(value: string): string | undefined {
  try {
    readPath(value);
    return undefined;
  } catch (err) {
    if (err instanceof AmbiguousTarget) return err.message;
    throw err;
  }
}

export const routeRule = z
  .strictObject({
    host: host.optional().describe('Only requests for this host (any port unless one is given); `*.example.com` for its subdomains.'),
    path: path.describe('`/exact`, `/users/*/photos` (`*`: one segment) or `/api/**` (the path and everything below it).'),
    methods: z
      .array(z.enum(STANDARD_METHODS as [string, ...string[]]))
      .min(1)
      .max(7)
      .optional()
      .describe('Only these methods; all when absent.'),
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
  /** The path's segments as readTarget (src/http/request-path.ts) reads them. */
  segments: readonly string[];
  /** The segments in lower case, folded at most once per request: see requestTarget. */
  folded(): readonly string[];
}

/** A request for the rules, its segments folded to lower case only if some rule set asks. */
export function requestTarget(method: string, host: string, segments: readonly string[]): RequestTarget {
  let folded: readonly string[] | undefined;
  // Segments are printable ASCII once read (readTarget refuses the rest): no Unicode case mapping (K, ſ) arises.
  return { method, host, segments, folded: () => (folded ??= segments.map((segment) => segment.toLowerCase())) };
}

/** A rule, prepared once for matching many requests. */
export interface CompiledRule {
  rule: RouteRule;
  /** Whether the rule matches the request's path as sent. */
  matches(target: RequestTarget): boolean;
  /** Whether it matches the path with both in lower case: how a case-insensitive API reads it. */
  matchesFolded(target: RequestTarget): boolean;
}

export function compileRule(rule: RouteRule): CompiledRule {
  // Rule paths are read as request paths are (the schema refuses those that cannot be), so that
  // `/files/a%20b` meets the request for /files/a%20b.
  const exact = readPath(rule.path);
  const rest = exact.at(-1) === '**';
  const fixed = rest ? exact.slice(0, -1) : exact;
  const folded = fixed.map((segment) => segment.toLowerCase());
  const methods = rule.methods && new Set(rule.methods);
  const hostMatches = hostMatcher(rule.host);
  const matcher = (pattern: readonly string[]) => (method: string, host: string, segments: readonly string[]) => {
    if (methods && !methods.has(method)) return false;
    if (!hostMatches(host)) return false;
    if (rest ? segments.length < pattern.length : segments.length !== pattern.length) return false;
    // `/api/**` matches /api and below it, not /apix; `*` matches one non-empty segment.
    for (let i = 0; i < pattern.length; i += 1) if (pattern[i] === '*' ? segments[i] === '' : pattern[i] !== segments[i]) return false;
    return true;
  };
  const matchExact = matcher(fixed);
  const matchFolded = matcher(folded);
  return {
    rule,
    matches: ({ method, host, segments }) => matchExact(method, host, segments),
    matchesFolded: ({ method, host, folded: fold }) => matchFolded(method, host, fold()),
  };
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

/**
 * The first rule that matches, or undefined: the request is refused. `caseSensitive`: the API
 * tells `/Admin` from `/admin`. Unless it says so, the API may read a path either way, so the rule
 * must be the same for both readings: `/users/ME` may not meet `/users/me`'s rule when a
 * case-sensitive API routes it to `/users/:id`, a later and stricter rule. When they differ, the
 * target is refused (AmbiguousTarget).
 */
export function firstMatch(
  rules: readonly CompiledRule[],
  target: RequestTarget,
  { caseSensitive = false }: { caseSensitive?: boolean } = {},
): RouteRule | undefined {
  if (caseSensitive) return rules.find((compiled) => compiled.matches(target))?.rule;
  // A path matched as sent is matched in lower case too: the first rule matching in lower case
  // is the one both readings choose exactly when it also matches as sent.
  const folded = rules.find((compiled) => compiled.matchesFolded(target));
  if (folded && !folded.matches(target))
    throw new AmbiguousTarget('the case of its letters changes which route rule decides, and the API may read it either way');
  return folded?.rule;
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
