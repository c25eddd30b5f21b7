// The admin API with no server running: the CLI opens the database itself (applying pending
// migrations) and runs the admin API's router in this process, as the admin socket would (same
// routes, services and audit trail), over in-memory connections instead of a socket.
import { createServer } from 'node:http';
import { duplexPair } from 'node:stream';
import pino from 'pino';
import { LocalBus } from '../cache/invalidation.js';
import type { Config } from '../config/config.js';
import { configuredLocation, openDatabase, type Database } from '../db/database.js';
import { renderErrors } from '../http/errors.js';
import { KeyRing } from '../keys/key-ring.js';
import { openKeys } from '../keys/start.js';
import { keySettings } from '../keys/store.js';
import { createServices } from '../services.js';
import { adminApiOver, type AdminApi } from './api-client.js';
import { adminRouteTable, localAdminApp } from './local-api.js';

export interface DirectApi {
  api: AdminApi;
  /** Migrations applied on opening. */
  applied: string[];
  /** Writes the audit events and closes the database. */
  close(): Promise<void>;
}

export async function openDirectApi(config: Config): Promise<DirectApi> {
  const db = await openDatabase(configuredLocation(config));
  try {
    const applied = await db.migrate();
    // The CLI reports failures itself (one line on stderr); nothing is logged.
    const log = pino({ level: 'silent' });
    // Caches of its own, on an in-process bus: running servers on the same PostgreSQL hear of every
    // change from the database itself, as it commits (src/cache/pg-bus.ts).
    const { clients, users, resourceServers, audit } = createServices(db, new LocalBus(), config, log);
    const keys = keyRingOnDemand(config, db, log);

    // An unexpected error is rethrown to the CLI as it was, not as the API's bare 500, so the
    // operator sees what went wrong (the CLI keeps it to one line, without the database password).
    let unexpected: unknown;
    const koa = localAdminApp(adminRouteTable({ clients, users, resourceServers, audit, db, keys }), audit, [
      renderErrors({ log }),
      async (_ctx, next) => {
        try {
          await next();
        } catch (err) {
          unexpected = err;
          throw err;
        }
      },
    ]);
    const server = createServer(koa.callback());
    const over = adminApiOver(() => {
      const [client, served] = duplexPair();
      server.emit('connection', served);
      return client;
    });
    const api: AdminApi = async (request) => {
      unexpected = undefined;
      try {
        return await over(request);
      } catch (err) {
        throw ((err as { status?: number }).status ?? 0) >= 500 && unexpected !== undefined ? unexpected : err;
      } finally {
        // Each change's audit event is written before the CLI says it is done.
        await audit.flush();
        // biome-ignore lint/correctness/noUnsafeFinally: a change whose audit event was lost must not be reported as done, whatever happened before.
        if (audit.depth) throw new Error('the audit event of this command could not be written to the database');
      }
    };
    return {
      api,
      applied,
      async close() {
        await audit.close(0);
        await db.close();
      },
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}

/**
 * The key ring, opened by the first command that needs it (a rotation): only that command needs the
 * key-encryption key, so a wrong one fails it alone (WrongKeyEncryptionKeyError, which the CLI turns
 * into its one line) and every other command still works. A database no server has started on yet
 * gets its keys first, as a server's start would.
 */
function keyRingOnDemand(config: Config, db: Database, log: pino.Logger): Pick<KeyRing, 'rotate'> {
  let ring: Promise<KeyRing> | undefined;
  const open = async () => {
    const { kek, keys } = await openKeys(config, db, log, (_line, cause) => cause as Error);
    return new KeyRing(db, kek, keys, keySettings(config), new LocalBus(), log);
  };
  return { rotate: async (now) => (await (ring ??= open())).rotate(now) };
}
