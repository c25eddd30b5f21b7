import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import { LocalBus, type InvalidationBus } from './invalidation.js';
import { PgBus, type PgBusOptions } from './pg-bus.js';

/**
 * PostgreSQL may be shared by several instances, so they listen to each other's changes; the
 * embedded store belongs to this one process, where a call is enough.
 */
export async function startInvalidationBus(config: Config, db: Database, log: Logger, options: PgBusOptions = {}): Promise<InvalidationBus> {
  if (db.kind !== 'postgresql' || !config.databaseUrl) return new LocalBus();
  const bus = await PgBus.start(config.databaseUrl, log.child({ component: 'invalidation' }), options);
  log.info('listening for cache invalidations from other instances (PostgreSQL LISTEN; the database notifies every change as it commits)');
  return bus;
}
