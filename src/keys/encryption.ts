// Encryption at rest of the provider's keys: AES-256-GCM under the key-encryption key (KEK), with
// the row's identity as additional data, so a sealed value copied to another row does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { randomSecret } from '../crypto/random.js';
import { preparePrivateDir } from '../db/data-dir.js';

/** Where a KEK generated for a deployment without KEYS_ENCRYPTION_KEY is kept. */
export const KEK_FILE = 'keys-encryption-key';

const VERSION = 'v1';

/** The key-encryption key, and where it came from (for the log; never the key). */
export interface KeyEncryptionKey {
  key: Buffer;
  source: 'KEYS_ENCRYPTION_KEY' | 'generated' | 'file';
  /** The file, when the key is kept in DATA_DIR. */
  path?: string;
}

/** A sealed value does not open with this KEK: it is another one, or the value was altered. */
export class WrongKeyEncryptionKeyError extends Error {}

/**
 * KEYS_ENCRYPTION_KEY when set; otherwise the one in DATA_DIR/keys-encryption-key, created
 * (mode 0600) on first use. A file another process created first is the one used.
 */
export async function loadKeyEncryptionKey(config: Pick<Config, 'keys' | 'dataDir'>): Promise<KeyEncryptionKey> {
  if (config.keys.encryptionKey) return { key: config.keys.encryptionKey, source: 'KEYS_ENCRYPTION_KEY' };
  const path = join(config.dataDir, KEK_FILE);
  const read = async () => {
    const text = (await readFile(path, 'utf8')).trim();
    const key = Buffer.from(text, 'base64url');
    if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte key (base64url); restore it or set KEYS_ENCRYPTION_KEY`);
    return key;
  };
  try {
    return { key: await read(), source: 'file', path };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await preparePrivateDir(config.dataDir);
  // 'wx' refuses to overwrite a key another process wrote meanwhile; that one is then read.
  const created = await writeFile(path, `${randomSecret()}\n`, { mode: 0o600, flag: 'wx' }).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      return false;
    },
  );
  return { key: await read(), source: created ? 'generated' : 'file', path };
}

/** `v1.<iv>.<ciphertext>.<tag>`, base64url: `plaintext` encrypted for the row `context` names. */
export function seal(kek: Buffer, context: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv).setAAD(Buffer.from(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
}

/** The plaintext of `sealed`; WrongKeyEncryptionKeyError when it does not open with `kek` for `context`. */
export function unseal(kek: Buffer, context: string, sealed: string): string {
  const [version, iv, ciphertext, tag] = sealed.split('.');
  if (version !== VERSION || !iv || ciphertext === undefined || !tag)
    throw new WrongKeyEncryptionKeyError(`a stored key (${context}) is not in a known sealed format`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new WrongKeyEncryptionKeyError('the keys in the database do not decrypt with this key-encryption key');
  }
}
