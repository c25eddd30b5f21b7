import { format, stripVTControlCharacters } from 'node:util';
import pino, { type Logger } from 'pino';

/** Fields that may carry credentials, wherever they appear in a log record. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.dpop',
  'res.headers["set-cookie"]',
  '*.client_secret',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'tollgate' } }, destination ?? batchedStdout());
}

/** How long a line may wait for others to share its write(2). */
const BATCH_MS = 10;
/** What a pipe keeps whole (PIPE_BUF): cluster workers share stdout, and their writes must not interleave mid-line. */
const PIPE_BUF = 4096;

/**
 * Asynchronous stdout whose lines go out together, one write(2) for the lines of up to BATCH_MS
 * (sonic-boom's own batching): a write costs ~20 µs of CPU on a virtual machine, more than a cached
 * introspection's handler, and written one by one a revocation's line cost a fifth of the request.
 * Each write holds whole lines and at most PIPE_BUF bytes (a longer line goes alone). pino writes
 * what is pending when the process exits, and stops logging, quietly, when stdout's reader is gone.
 */
function batchedStdout(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: PIPE_BUF / 2, maxWrite: PIPE_BUF, periodicFlush: BATCH_MS });
}

/**
 * Sends what libraries print with console.* (oidc-provider's notices and warnings) through the log,
 * so stdout carries nothing but JSON log lines. The server process calls it once, before loading them.
 */
export function routeConsoleTo(log: Logger): void {
  const to =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) =>
      log[level]({ source: 'console' }, stripVTControlCharacters(format(...args)));
  Object.assign(console, { debug: to('debug'), log: to('info'), info: to('info'), warn: to('warn'), error: to('error') });
}
