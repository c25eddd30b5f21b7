import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

/**
 * An error a client can act on, rendered as RFC 6749 §5.2 JSON: `error`, `error_description`
 * and, for invalid input, the offending `field`.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly field?: string,
  ) {
    super(description);
  }
}

export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
export const conflict = (description: string, field?: string) => new HttpError(409, 'conflict', description, field);
export const invalidRequest = (description: string, field?: string) => new HttpError(400, 'invalid_request', description, field);

/** Outermost middleware: whatever goes wrong, the caller gets JSON and never a stack trace. */
export function renderErrors(log: Logger) {
  return async function renderErrors(ctx: Context, next: Next) {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new HttpError(404, 'not_found', 'no such endpoint');
      }
    } catch (err) {
      const known = toHttpError(err);
      if (!known) log.error({ err }, 'unhandled error');
      const rendered = known ?? new HttpError(500, 'server_error', 'internal server error');
      ctx.status = rendered.status;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = errorBody(rendered);
    }
  };
}

/** The RFC 6749 §5.2 body of an error: `error`, `error_description` and, for invalid input, `field`. */
export function errorBody({ error, description, field }: HttpError): Record<string, string> {
  return { error, error_description: description, ...(field ? { field } : {}) };
}

function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  // Koa and its body parser signal client errors with `status` and `expose`.
  const e = err as { status?: number; expose?: boolean; message?: string; type?: string };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    if (e.status === 413) return new HttpError(413, 'invalid_request', 'request body too large');
    if (e.status === 415) return new HttpError(415, 'invalid_request', 'unsupported content type');
    return new HttpError(e.status, 'invalid_request', e.expose && e.message ? e.message : 'bad request');
  }
  return undefined;
}
