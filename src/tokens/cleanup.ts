import type { Database } from '../db/database.js';
import { tokenStore } from './store/token-store.js';

/** Deletes expired provider rows (tokens, grants, sessions, ...) every `intervalSeconds`. */
export function scheduleCleanup(db: Database, intervalSeconds: number, onError: (err: unknown) => void): () => void {
  const run = () => tokenStore(db).deleteExpired().catch(onError);
  const timer = setInterval(run, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
