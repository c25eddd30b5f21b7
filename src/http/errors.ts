// The one error model of every answer Tollgate gives, whoever gives it: an HttpError (or one of
// its kinds), or a domain error (src/domain-errors.ts) mapped to one by httpErrorOf, becomes
// RFC 6749 §5.2 JSON with its status and headers (src/http/answers.ts) through `answerFor`, which
// the request pipeline (src/http/pipeline.ts), Koa's renderErrors and the provider's hooks use.
// Anything else is a 503 when the database is unreachable and a 500 otherwise, without a stack
// trace in the answer.
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { DomainError, TryLater, type RefusalKind } from '../domain-errors.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { answerErrorInKoa } from './answers.js';

export interface HttpErrorDetails {
  /** For invalid input: the offending field. */
  field?: string;
  /** For invalid_scope: the scope refused (RFC 6749 §5.2 allows more members; oidc-provider sends this one). */
  scope?: string;
  /** Headers that go with the answer: Retry-After, Allow, WWW-Authenticate. */
  headers?: Readonly<Record<string, string>>;
}

/** An error a client can act on, rendered as RFC 6749 §5.2 JSON: `error`, `error_description` and its details. */
export class HttpError extends Error {
  readonly field?: string;
  readonly scope?: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    { field, scope, headers = {} }: HttpErrorDetails = {},
  ) {
    super(description);
    this.field = field;
    this.scope = scope;
    this.headers = headers;
  }
}

export const noSuchEndpoint = () => new HttpError(404, 'not_found', 'no such endpoint');
export const invalidRequest = (description: string, field?: string) => new HttpError(400, 'invalid_request', description, { field });
/** Methods any path may be asked with; anything else is 405 everywhere (and "other" in the metrics). */
export const STANDARD_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

export const methodNotAllowed = (allowed: readonly string[]) =>
  new HttpError(405, 'invalid_request', `method not allowed; use ${allowed.join(', ')}`, { headers: { Allow: allowed.join(', ') } });

/** Seconds a client is asked to wait after a 503. */
export const RETRY_AFTER_UNAVAILABLE = '5';
export const temporarilyUnavailable = (description: string, retryAfter = RETRY_AFTER_UNAVAILABLE) =>
  new HttpError(503, 'temporarily_unavailable', description, { headers: { 'Retry-After': retryAfter } });
export const databaseUnavailable = () => temporarilyUnavailable('the database is unavailable; retry later');
const serverError = () => new HttpError(500, 'server_error', 'internal server error');

/** What answers an error and what it tells operators: counts database trouble, logs the unexpected. */
export interface ErrorReporting {
  /** None in the admin CLI, which serves no metrics. */
  metrics?: Metrics;
  log: Logger;
}

/** The HttpError that answers `err`, reporting a database outage or an unexpected error on the way. */
export function answerFor(err: unknown, { metrics, log }: ErrorReporting, requestId: string | undefined): HttpError {
  const known = toHttpError(err);
  if (known) {
    // The detail a domain error keeps from the caller, for whoever debugs a refusal. Not its
    // description: that may repeat what the caller sent (an id pasted into a path, say).
    if (err instanceof DomainError && Object.keys(err.detail).length) log.debug({ requestId, refusal: err.name, detail: err.detail }, 'refused');
    return known;
  }
  if (isDatabaseUnavailable(err)) {
    metrics?.databaseErrors.inc({ kind: 'unavailable' });
    // The driver's last line only: no query, no parameters, no stack.
    log.warn(
      {
        err: {
          message: String((err as Error)?.message)
            .split('\n')
            .at(-1),
        },
        requestId,
      },
      'database unavailable: answered 503',
    );
    return databaseUnavailable();
  }
  if (isPrismaError(err)) metrics?.databaseErrors.inc({ kind: 'other' });
  log.error({ err, requestId }, 'unhandled error');
  return serverError();
}

/** Koa's side of the error model: whatever goes wrong below it, the caller gets answerFor's JSON. */
export function renderErrors(reporting: ErrorReporting) {
  return async function renderErrors(ctx: Context, next: Next) {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw noSuchEndpoint();
    } catch (err) {
      answerErrorInKoa(ctx, answerFor(err, reporting, ctx.state.requestId));
    }
  };
}

export function isPrismaError(err: unknown): boolean {
  return typeof (err as Error)?.name === 'string' && (err as Error).name.startsWith('PrismaClient');
}

/** Each kind of domain refusal as HTTP: its status and RFC 6749 §5.2 error code. */
const REFUSALS: Readonly<Record<RefusalKind, { status: number; error: string }>> = {
  invalid: { status: 400, error: 'invalid_request' },
  not_found: { status: 404, error: 'not_found' },
  conflict: { status: 409, error: 'conflict' },
  rate_limited: { status: 429, error: 'too_many_requests' },
  overloaded: { status: 503, error: 'temporarily_unavailable' },
};

/**
 * The one mapping of errors a caller may be told of to HTTP: an HttpError as it is, a domain
 * error by its kind with its public description (its detail stays in the log); undefined for
 * anything else.
 */
export function httpErrorOf(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (!(err instanceof DomainError)) return undefined;
  const { status, error } = REFUSALS[err.kind];
  const headers = err instanceof TryLater ? { 'Retry-After': String(err.retryAfterSeconds) } : undefined;
  return new HttpError(status, error, err.description, { field: err.field, headers });
}

function toHttpError(err: unknown): HttpError | undefined {
  const known = httpErrorOf(err);
  if (known) return known;
  // Koa and its body parser signal client errors with `status` and `expose`.
  const e = err as { status?: number; expose?: boolean; message?: string; type?: string };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    if (e.status === 413) return new HttpError(413, 'invalid_request', 'request body too large');
    if (e.status === 415) return new HttpError(415, 'invalid_request', 'unsupported content type');
    return new HttpError(e.status, 'invalid_request', e.expose && e.message ? e.message : 'bad request');
  }
  return undefined;
}
