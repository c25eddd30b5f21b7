import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { exchangeOf } from './exchange.js';

/** The caller's X-Request-Id when it is a sane one, else a new one. */
export function requestIdFor(incoming: string | undefined): string {
  return incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
}

/**
 * The logger for request lines. Their fields are fixed and never hold a credential (no headers,
 * query strings or bodies), so pino's redaction, a third of a line's cost, is left out.
 */
export function requestLineLogger(log: Logger): Logger {
  return log.child({}, { redact: [] });
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
 * Koa's first middleware: the request pipeline's record (src/http/pipeline.ts) becomes the
 * context's request id and address, and the route that answered goes back to it for the metrics.
 */
export async function adoptExchange(ctx: Context, next: Next): Promise<void> {
  const exchange = exchangeOf(ctx.req);
  ctx.state.requestId = exchange.requestId;
  ctx.request.ip = exchange.ip;
  try {
    await next();
  } finally {
    const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
    if (typeof matched === 'string') exchange.route = matched;
  }
}
