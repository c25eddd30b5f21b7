import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

/** The caller's X-Request-Id when it is a sane one, else a new one. */
export function requestIdFor(incoming: string | undefined): string {
  return incoming && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
}

export interface RequestLine {
  requestId: string;
  method: string;
  path: string;
  status: number;
  /** performance.now() when the request arrived. */
  started: number;
}

/**
 * The logger for request lines. Their fields are fixed and never hold a credential (no headers,
 * query strings or bodies), so pino's redaction, a third of a line's cost, is left out.
 */
export function requestLineLogger(log: Logger): Logger {
  return log.child({}, { redact: [] });
}

/** The one log line of a request, through requestLineLogger's logger. */
export function logRequest(lines: Logger, { started, ...line }: RequestLine): void {
  lines.info({ ...line, ms: Math.round(performance.now() - started) }, 'request');
}

export function logRequests(log: Logger) {
  const lines = requestLineLogger(log);
  return async function logRequests(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    const requestId = requestIdFor(ctx.get('x-request-id'));
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      logRequest(lines, { requestId, method: ctx.method, path: ctx.path, status: ctx.status, started });
    }
  };
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

export function securityHeaders(issuer: string) {
  const headers = securityHeaderValues(issuer);
  return async function securityHeaders(ctx: Context, next: Next): Promise<void> {
    ctx.set(headers);
    await next();
  };
}
