// Building the app has no side effects: no connection, no timer, until start(). Checked with the
// process's own list of active handles and with a Redis that really runs (127.0.0.1:6379).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/http/logger.js';
import { LocalBus } from '../../src/cache/invalidation.js';
import { KeyRing } from '../../src/keys/key-ring.js';
import { openKeys } from '../../src/keys/start.js';
import { keySettings } from '../../src/keys/store.js';
import { redisAvailable } from '../helpers/requirements.js';
import { openTestDatabase } from '../helpers/tollgate.js';

const hasRedis = await redisAvailable();

/** Kinds of active resource that are a connection (or one being made) or a timer. */
const CONNECTIONS_AND_TIMERS = new Set(['TCPSocketWrap', 'TCPConnectWrap', 'GetAddrInfoReqWrap', 'PipeConnectWrap', 'Timeout']);
/** The process's open connections and pending timers, by kind, in a stable order. */
const activeResources = () =>
  process
    .getActiveResourcesInfo()
    .filter((kind) => CONNECTIONS_AND_TIMERS.has(kind))
    .sort();
/** One turn of the event loop, for whatever a constructor scheduled to happen next. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe.skipIf(!hasRedis)('buildApp', () => {
  it('opens no connection and starts no timer; start() connects to Redis', async () => {
    const { db, dispose } = await openTestDatabase();
    const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-test-'));
    const config = loadConfig({
      ISSUER: 'http://127.0.0.1:1',
      DATA_DIR: dataDir,
      RATE_LIMIT_ENABLED: 'true',
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: `tollgate-test:${randomUUID()}:`,
    });
    const log = createLogger('info', new Writable({ write: (_chunk, _encoding, done) => done() }));
    const { kek, keys } = await openKeys(config, db, log, (line) => new Error(line));
    const invalidation = new LocalBus();
    try {
      await nextTurn();
      const before = activeResources();
      const app = buildApp({ config, db, keys: new KeyRing(db, kek, keys, keySettings(config), invalidation, log), log, invalidation });
      await nextTurn();
      expect(activeResources()).toEqual(before);
      expect(app.limits.store()?.up).toBe(false);

      await app.start();
      expect(app.limits.store()?.up).toBe(true);
      const sockets = (kinds: string[]) => kinds.filter((kind) => kind === 'TCPSocketWrap').length;
      expect(sockets(activeResources())).toBe(sockets(before) + 1);
      await app.close();
    } finally {
      await dispose();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
