// At start-up: the key-encryption key, the keys in the database (imported from keys.json or
// generated on the first start), decrypted. What an operator must fix is one line (StartupError).
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import { loadKeyEncryptionKey, WrongKeyEncryptionKeyError, type KeyEncryptionKey } from './encryption.js';
import { ensureKeys, loadKeys, type KeySet } from './store.js';

/** The start-up's one line for a key-encryption key that does not open the stored keys. */
export function wrongKekLine(kek: KeyEncryptionKey): string {
  const used = kek.source === 'KEYS_ENCRYPTION_KEY' ? 'KEYS_ENCRYPTION_KEY' : `the key-encryption key in ${kek.path} (KEYS_ENCRYPTION_KEY is unset)`;
  return `the keys in the database do not decrypt with ${used}: start with the KEYS_ENCRYPTION_KEY they were encrypted with (the one the other instances use)`;
}

export async function openKeys(
  config: Config,
  db: Database,
  log: Logger,
  fail: (line: string, cause: unknown) => Error,
): Promise<{ kek: Buffer; keys: KeySet }> {
  const kek = await loadKeyEncryptionKey(config);
  if (kek.source === 'generated') log.info({ path: kek.path }, 'generated a key-encryption key (set KEYS_ENCRYPTION_KEY in production)');
  if (kek.source !== 'KEYS_ENCRYPTION_KEY' && db.kind === 'postgresql') {
    log.warn(
      { path: kek.path },
      'KEYS_ENCRYPTION_KEY is unset: the keys in PostgreSQL are encrypted with a key kept in DATA_DIR; every instance needs the same one, so set KEYS_ENCRYPTION_KEY',
    );
  }
  const ensured = await ensureKeys(db, kek.key, config.dataDir, new Date());
  if (ensured.importedFrom)
    log.info({ file: ensured.importedFrom }, 'imported the signing and cookie keys from keys.json into the database (encrypted); the file is no longer read');
  if (ensured.generated.length) log.info({ keys: ensured.generated }, 'generated keys in the database (encrypted)');
  try {
    return { kek: kek.key, keys: await loadKeys(db, kek.key) };
  } catch (err) {
    if (err instanceof WrongKeyEncryptionKeyError) throw fail(wrongKekLine(kek), err);
    throw err;
  }
}
