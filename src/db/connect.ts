// At start-up, before anything is created: the database must answer. A container often starts
// before its database does, so an unreachable PostgreSQL is tried again, with backoff, for a while;
// what then still fails is told in one line that says what to do.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Database } from './database.js';
import { isDatabaseUnavailable } from './errors.js';

export interface DatabaseWait {
  /** How long to keep trying (DB_STARTUP_TIMEOUT_SECONDS); 0 tries once. */
  timeoutSeconds: number;
  /** The first pause between attempts; it doubles up to MAX_PAUSE_MS. */
  firstPauseMs: number;
  /** DATABASE_URL, to name the host, user and database in the explanation. */
  url: string;
  /** DB_CONNECT_TIMEOUT_MS, to name in the explanation of a connection that timed out. */
  connectTimeoutMs: number;
  log: Logger;
}

const MAX_PAUSE_MS = 5000;

/** A failure to reach the database at start-up, told in one line (the message); `cause` keeps the driver's error. */
export class DatabaseStartupError extends Error {}

/**
 * Resolves once `db` answers a query. Failures that may pass (refused or timed-out connections,
 * a server starting up, a database not created yet) are tried again until `timeoutSeconds` have
 * passed on the clock (Date), each logged as a warning; then, or at once for any other failure,
 * rejects with a DatabaseStartupError.
 */
export async function waitForDatabase(db: Database, wait: DatabaseWait): Promise<void> {
  const deadline = Date.now() + wait.timeoutSeconds * 1000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await db.sql('tollgate_startup_check', 'SELECT 1', []);
      if (attempt > 1) wait.log.info({ attempt, database: db.location }, 'database reachable');
      return;
    } catch (err) {
      const reason = describeDatabaseFailure(err, wait);
      const remaining = deadline - Date.now();
      if (!mayPass(err) || remaining <= 0) {
        const gaveUp = attempt > 1 ? ` (tried for ${wait.timeoutSeconds} s: DB_STARTUP_TIMEOUT_SECONDS)` : '';
        throw new DatabaseStartupError(reason + gaveUp, { cause: err });
      }
      const pauseMs = Math.min(wait.firstPauseMs * 2 ** (attempt - 1), MAX_PAUSE_MS, remaining);
      wait.log.warn({ attempt, retryInMs: pauseMs, database: db.location, reason }, 'database not ready yet: trying again');
      await sleep(pauseMs);
    }
  }
}

/** Unreachable, starting up, or not created yet: worth another attempt. A refused login is not. */
function mayPass(err: unknown): boolean {
  return errorCode(err) === '3D000' || isDatabaseUnavailable(err);
}

/** What went wrong reaching PostgreSQL, and what to do about it, in one line. */
export function describeDatabaseFailure(err: unknown, { url, connectTimeoutMs }: Pick<DatabaseWait, 'url' | 'connectTimeoutMs'>): string {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || 'localhost';
  const port = parsed.port || '5432';
  const user = decodeURIComponent(parsed.username) || 'postgres';
  const database = decodeURIComponent(parsed.pathname.slice(1)) || user;
  const server = `PostgreSQL at ${host}:${port}`;
  const code = errorCode(err);
  const message = firstLine(err);
  switch (code) {
    case '3D000':
      return `database "${database}" does not exist on ${server}: create it with \`createdb -h ${host} -p ${port} -U ${user} ${database}\``;
    case '28P01':
      return `${server} refused user "${user}": wrong password (28P01); check the user and password in DATABASE_URL`;
    case '28000':
      return `${server} refused user "${user}" (28000: ${message}); check the user in DATABASE_URL and the server's pg_hba.conf`;
    case 'ECONNREFUSED':
      return `cannot connect to ${server} (ECONNREFUSED): is PostgreSQL running? check the host and port in DATABASE_URL`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve the database host "${host}" (${code}): check the host in DATABASE_URL`;
    case '57P03':
      return `${server} is starting up or shutting down (57P03)`;
  }
  if (/timeout/i.test(message)) return `${server} did not answer within DB_CONNECT_TIMEOUT_MS (${connectTimeoutMs} ms): is the host reachable from here?`;
  return `cannot use database "${database}" on ${server}: ${code ? `${message} (${code})` : message}`;
}

/** The driver's code (SQLSTATE or socket error), looked for in the error, its cause and an AggregateError's errors. */
function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | undefined;
  if (!e || typeof e !== 'object') return undefined;
  if (typeof e.code === 'string') return e.code;
  return errorCode(e.cause) ?? (Array.isArray(e.errors) ? errorCode(e.errors[0]) : undefined);
}

function firstLine(err: unknown): string {
  return String((err as Error | undefined)?.message ?? err).split('\n')[0]!;
}
