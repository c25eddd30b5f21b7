// The one reading of an original request's target that every gateway decision uses. A decision is
// only as good as its agreement with the server behind the gateway, and servers disagree about
// much of what RFC 3986 allows: Tomcat, Jetty and Spring drop `;` parameters (`/public/..;/admin`),
// many merge `//`, resolve dot segments or decode `%2F`, Windows and IIS drop trailing dots, some
// read `\` as `/` or a fragment as path. So a target is read only when every common server would
// read it the same way, and is refused otherwise, rather than decided on a reading the API may not share.

/** The path's segments, percent-decoded: ['', 'api', 'x'] for /api/x. */
export type PathSegments = string[];

/** A target Tollgate will not decide on, and why, in words for the gateway's operator. */
export class AmbiguousTarget extends Error {}

/** What a path may hold raw: RFC 3986 pchar and `/`, without `;` (path parameters). */
const PATH_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,=:@%/]*$/;
/** Escapes of what servers treat as structure, or decode more than once: / \ . ; % */
const STRUCTURAL_ESCAPE = /%(2f|5c|2e|3b|25)/i;
/**
 * What a path may hold as is (unreserved, sub-delims, `:` and `@`). Routers (Express, Koa,
 * path-to-regexp) match the raw path, so `/d%6Fcs` is not `/docs` to them: an escape of such a
 * character is refused rather than decoded into a path the API does not route.
 */
const RAW_CHARACTER = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/;

/**
 * The path of an origin-form target (`/path?query`, RFC 9112 §3.2.1) and its segments; throws
 * AmbiguousTarget for a target another server could read as a different path.
 */
export function readTarget(target: string): { path: string; segments: PathSegments } {
  if (!target.startsWith('/') || target.startsWith('//')) throw new AmbiguousTarget('the target is not a path (origin-form)');
  if (target.includes('#')) throw new AmbiguousTarget('the target holds a # (a fragment)');
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  return { path, segments: readPath(path) };
}

/** The decoded segments of a path (as readTarget, without a query). */
export function readPath(path: string): PathSegments {
  if (!path.startsWith('/')) throw new AmbiguousTarget('the path does not start with /');
  if (!PATH_CHARACTERS.test(path)) throw new AmbiguousTarget(rawProblem(path));
  const raw = path.split('/');
  return raw.map((segment, i) => {
    // The leading '' before the first /, and one trailing / (['', 'api', ''] for /api/).
    if (segment === '') {
      if (i === 0 || i === raw.length - 1) return segment;
      throw new AmbiguousTarget('the path holds an empty segment (//)');
    }
    const decoded = segment.includes('%') ? decode(segment) : segment;
    if (decoded === '.' || decoded === '..') throw new AmbiguousTarget('the path holds a dot segment (. or ..)');
    if (/[. ]$/.test(decoded)) throw new AmbiguousTarget('a path segment ends with a dot or a space');
    return decoded;
  });
}

function rawProblem(path: string): string {
  if (path.includes(';')) return 'the path holds a ; (path parameters)';
  if (path.includes('\\')) return 'the path holds a backslash';
  if (/[^\x20-\x7e]/.test(path)) return 'the path holds a control or non-ASCII character';
  return 'the path holds a character that must be percent-encoded';
}

/** Percent-decoding that admits only escapes of printable ASCII a path cannot hold as is, and none of structure. */
function decode(segment: string): string {
  if (/%(?![0-9a-f]{2})/i.test(segment)) throw new AmbiguousTarget('the path holds a broken %-escape');
  if (STRUCTURAL_ESCAPE.test(segment)) throw new AmbiguousTarget('the path holds an encoded /, \\, ., ; or %');
  return segment.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => {
    const code = Number.parseInt(hex, 16);
    if (code < 0x20 || code > 0x7e) throw new AmbiguousTarget('the path holds an encoded control or non-ASCII character');
    const character = String.fromCharCode(code);
    if (RAW_CHARACTER.test(character))
      throw new AmbiguousTarget(`the path holds %${hex}, an escape of ${character}, which routers do not decode before routing`);
    return character;
  });
}
