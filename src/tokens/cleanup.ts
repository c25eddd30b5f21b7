import type { Database } from '../db/database.js';

/** Deletes expired provider rows (tokens, grants, sessions, ...) now and every `intervalSeconds`. */
export function scheduleCleanup(db: Database, intervalSeconds: number, onError: (err: unknown) => void): () => void {
  const run = () => deleteExpired(db).catch(onError);
  const timer = setInterval(run, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

export async function deleteExpired(db: Database): Promise<number> {
  const { count } = await db.prisma.oidcPayload.deleteMany({ where: { expiresAt: { lt: new Date() } } });
  return count;
}
