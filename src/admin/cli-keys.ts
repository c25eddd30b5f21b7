// `keys …` commands: list the signing and cookie keys, and start a rotation, as /admin/keys does.
import { notifyPostgres } from '../cache/pg-bus.js';
import { loadKeyEncryptionKey } from '../keys/encryption.js';
import { advanceKeys, ensureKeys, keySettings, listKeys, loadKeys, rotateKeys } from '../keys/store.js';
import type { CommandFamily } from './cli-kit.js';

export const keyCommands: CommandFamily = {
  name: 'keys',
  title: 'Signing and cookie keys',
  commands: {
    list: {
      description: 'Lists the signing and cookie keys (kid, alg, use, state, dates), newest first; never private material.',
      prepare: () => async ({ db }) => ({ keys: await listKeys(db) }),
    },
    rotate: {
      description: 'Starts a rotation: new keys, published at once, signing after JWKS_CACHE_SECONDS.',
      prepare: () => async ({ db, config }) => {
        const { key: kek } = await loadKeyEncryptionKey(config);
        const now = new Date();
        // A database no server has started on yet gets its keys first (imported from keys.json, or generated).
        await ensureKeys(db, kek, config.dataDir, now);
        // The stored keys must open with this key-encryption key, or the new ones would be sealed with another.
        await loadKeys(db, kek);
        const settings = keySettings(config);
        const created = await rotateKeys(db, kek, now, settings);
        await advanceKeys(db, now, settings);
        // Running servers on the same PostgreSQL publish the new keys within a second.
        if (db.kind === 'postgresql') await notifyPostgres(db, [{ kind: 'keys' }]);
        const kids = new Set(created.map((view) => view.kid));
        return { keys: (await listKeys(db)).filter((view) => kids.has(view.kid)) };
      },
    },
  },
};
