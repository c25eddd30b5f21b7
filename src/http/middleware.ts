import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { exchangeOf } from './exchange.js';

/** The caller's X-Request-Id when it is a sane one, else a new one. */
export function requestIdFor(incoming: string | undefined): string {
  return incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
}

/**
 * The logger for request lines. Their fields are fixed and never hold a credential (no headers,
 * query strings or bodies, and paths through loggedPath), so pino's redaction, a third of a line's
 * cost, is left out.
 */
export function requestLineLogger(log: Logger): Logger {
  return log.child({}, { redact: [] });
}

/** A path segment a request line shows as sent: short and plain, unlike any credential Tollgate issues. */
const PLAIN_SEGMENT = /^[\w.~-]{0,16}$/;
const MAX_LOGGED_PATH = 256;

/**
 * The path a request line shows for a path no route names (a 404, mostly): every segment that
 * could be a credential pasted into the URL (long or unusual) becomes `:redacted`.
 */
export function loggedPath(path: string): string {
  return path
    .split('/')
    .map((segment) => (PLAIN_SEGMENT.test(segment) ? segment : ':redacted'))
    .join('/')
    .slice(0, MAX_LOGGED_PATH);
}

/** The headers every response carries (HSTS only when the issuer is https). */
export function securityHeaderValues(issuer: string): Record<string, string> {
  return {
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    ...(issuer.startsWith('https:') ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

/**
 * Every context of `app` sees its request as one made to the issuer: the protocol and host (so
 * ctx.href, ctx.secure, oidc-provider's URLs and its cookies' Secure flag) come from ISSUER, never
 * from Host or X-Forwarded-* headers, and ctx.ip is the address the request pipeline derived.
 */
export function seeRequestsAsIssuer(app: Koa, issuer: string): void {
  const { protocol, host } = new URL(issuer);
  app.proxy = false;
  Object.defineProperties(app.request, {
    protocol: { get: () => protocol.slice(0, -1) },
    host: { get: () => host },
    ip: {
      get(this: Koa.Request) {
        return exchangeOf(this.req).ip;
      },
    },
  });
}

/**
 * Koa's first middleware: the request pipeline's record (src/http/pipeline.ts) becomes the
 * context's request id (its address is ctx.ip, see seeRequestsAsIssuer).
 */
export async function adoptExchange(ctx: Context, next: Next): Promise<void> {
  ctx.state.requestId = exchangeOf(ctx.req).requestId;
  await next();
}
