import cluster from 'node:cluster';
import { writeSync } from 'node:fs';
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
  // Cluster workers share stdout and keep one write per line: a pipe keeps only writes up to 4 KiB
  // whole, so batches from two workers could interleave mid-line.
  const stdout = destination ?? (cluster.isWorker ? undefined : batchedStdout());
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'tollgate' } }, stdout);
}

/** How long a line may wait for others to share its write(2). */
const BATCH_MS = 10;

/**
 * Asynchronous stdout whose lines go out together, one write(2) for the lines of up to BATCH_MS:
 * a write costs ~20 µs of CPU on a virtual machine, more than a cached introspection's handler, and
 * written one by one a revocation's line cost a fifth of the request. What is pending when the
 * process exits is written before it does.
 */
function batchedStdout(): pino.DestinationStream {
  const out = pino.destination({ dest: 1, sync: false });
  let pending = '';
  const flush = () => {
    out.write(pending);
    pending = '';
  };
  process.on('exit', () => {
    out.flushSync();
    if (pending) writeSync(1, pending);
  });
  return {
    write(line: string) {
      if (pending === '') setTimeout(flush, BATCH_MS).unref();
      pending += line;
    },
  };
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
