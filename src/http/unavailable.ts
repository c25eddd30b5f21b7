import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { isDatabaseUnavailable } from '../db/errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { RateLimitError } from '../rate-limit/limits.js';
import { HttpError } from './errors.js';

export const DATABASE_UNAVAILABLE = {
  error: 'temporarily_unavailable',
  error_description: 'the database is unavailable; retry later',
} as const;

/** Seconds a client is asked to wait after a 503. */
export const RETRY_AFTER_UNAVAILABLE = '5';

/** Counts and logs a request answered 503 for an unreachable database: the driver's last line only, no query or stack. */
export function reportDatabaseUnavailable(metrics: Metrics, log: Logger, err: unknown, requestId: unknown): void {
  metrics.databaseErrors.inc({ kind: 'unavailable' });
  log.warn({ err: { message: String((err as Error)?.message).split('\n').at(-1) }, requestId }, 'database unavailable: answered 503');
}

/**
 * Inside renderErrors: a database outage becomes 503 temporarily_unavailable with Retry-After
 * (instead of a 500), and a rate-limit refusal gets its Retry-After header.
 */
export function operationalErrors(metrics: Metrics, log: Logger) {
  return async function operationalErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      if (err instanceof RateLimitError) {
        ctx.set('Retry-After', String(err.retryAfterSeconds));
        throw err;
      }
      if (!(err instanceof HttpError) && isDatabaseUnavailable(err)) {
        reportDatabaseUnavailable(metrics, log, err, ctx.state.requestId);
        ctx.set('Retry-After', RETRY_AFTER_UNAVAILABLE);
        throw new HttpError(503, DATABASE_UNAVAILABLE.error, DATABASE_UNAVAILABLE.error_description);
      }
      if (isPrismaError(err)) metrics.databaseErrors.inc({ kind: 'other' });
      throw err;
    }
  };
}

export function isPrismaError(err: unknown): boolean {
  return typeof (err as Error)?.name === 'string' && (err as Error).name.startsWith('PrismaClient');
}
