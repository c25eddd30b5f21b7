import cluster from 'node:cluster';
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
  // One process: asynchronous stdout, so lines logged while a write is under way go out together
  // in the next one instead of one write(2) each (a request line was ~18% of a cached
  // introspection's cost); pino flushes what is pending when the process exits. Cluster workers
  // share stdout and keep one write per line: a pipe keeps only writes up to 4 KiB whole, so
  // batches from two workers could interleave mid-line.
  const stdout = cluster.isWorker ? undefined : pino.destination({ dest: 1, sync: false });
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'tollgate' } }, destination ?? stdout);
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
