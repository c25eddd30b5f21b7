import type { Database, Prisma } from '../../db/database.js';

/** Runs one parameterised statement: Database.sql, or the same statement inside a caller's transaction. */
export type Sql = (name: string, text: string, values: unknown[]) => Promise<Record<string, unknown>[]>;

/** A caller's Prisma transaction that a revocation joins, to commit or roll back with the caller's own change. */
export type Transaction = Prisma.TransactionClient;

/**
 * The statement runner for `tx`, or the database's own. Inside a transaction the statement goes
 * through the transaction's connection (on PGlite, the only one: the database's own would wait for
 * the transaction to end), unprepared.
 */
export function sqlOf(db: Database, tx?: Transaction): Sql {
  if (!tx) return db.sql;
  return (_name, text, values) => tx.$queryRawUnsafe<Record<string, unknown>[]>(text, ...values);
}
