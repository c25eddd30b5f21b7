// Tells "the database is unreachable, overloaded or restarting" (the caller should retry later: 503)
// apart from every other database error (a bug: 500). Prisma reports the former in several shapes,
// depending on where the connection failed; all of them are recognised here.
import { NotFound } from '../domain-errors.js';

/** Prisma error codes for a database that cannot be reached, timed out or closed the connection. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** Driver adapter error kinds (@prisma/driver-adapter-utils) that mean the same. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/**
 * SQLSTATEs: class 08 connection exceptions, 53 insufficient resources, 57014 statement timeout,
 * 57P01-57P03 administrator/crash shutdown and "cannot connect now" (a restarting server).
 */
const SQLSTATE = /^(08...|53...|57014|57P0[123])$/;
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
/** node-postgres reports its own timeouts and lost connections as plain Errors. */
const PG_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error/i;

interface ErrorLike {
  code?: unknown;
  kind?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: unknown };
}

export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [err];
  while (pending.length) {
    const e = pending.pop() as ErrorLike | undefined;
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && (PRISMA_CODES.has(code) || SQLSTATE.test(code) || SOCKET_CODES.has(code))) return true;
    if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return true;
    if (typeof e.message === 'string' && PG_MESSAGES.test(e.message)) return true;
    pending.push(e.cause, e.meta?.driverAdapterError);
  }
  return false;
}

/** The Prisma error code of `err` (P2025, P2003, P2002…), if it is a Prisma error. */
function prismaCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as ErrorLike).code : undefined;
}

/** Prisma's "the record to update or delete does not exist": another request removed it meanwhile (a 404, not a 500). */
export const isRecordGone = (err: unknown): boolean => prismaCode(err) === 'P2025';

/** Prisma's "foreign key constraint failed": a record the write links to was removed meanwhile. */
export const isReferenceGone = (err: unknown): boolean => prismaCode(err) === 'P2003';

/** Prisma's "unique constraint failed": another record already has the value (a 409). */
export const isDuplicate = (err: unknown): boolean => prismaCode(err) === 'P2002';

/**
 * For a write by id after a read of the same record: one another request deleted in between is not
 * found, as it would be a moment later, instead of Prisma's P2025 reaching the caller as a 500.
 */
export function goneAsNotFound(what: string) {
  return (err: unknown): never => {
    throw isRecordGone(err) ? new NotFound(what) : err;
  };
}
