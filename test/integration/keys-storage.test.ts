// The provider's keys live in the database, encrypted under the key-encryption key: no private
// key, cookie key or secret in clear; a start with another key-encryption key stops in one line;
// a keys.json of an earlier version is imported once, even by two instances starting together.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { createLogger } from '../../src/http/logger.js';
import { KEK_FILE } from '../../src/keys/encryption.js';
import { ensureKeys, loadKeys } from '../../src/keys/store.js';
import type { ProviderKeys } from '../../src/keys/keys-file.js';
import { startServer, StartupError, type RunningServer } from '../../src/server.js';
import { testConfig, testProviderKeys } from '../helpers/prepared.js';
import {
  ADMIN_CLIENT_ID,
  ADMIN_CLIENT_SECRET,
  createPostgresDatabase,
  freePort,
  openTestDatabase,
  usingPostgres,
  SERVER_TEST_TIMEOUT_MS,
} from '../helpers/tollgate.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tempDir(keys?: ProviderKeys): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-keys-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  if (keys) await writeFile(join(dir, 'keys.json'), JSON.stringify(keys), { mode: 0o600 });
  return dir;
}

/** A server on `db` (left open), its log text; the server is closed after the file. */
async function start(db: Database, dataDir: string, env: Record<string, string> = {}): Promise<{ running: Promise<RunningServer>; logs: () => string }> {
  const port = await freePort();
  const config = testConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    RATE_LIMIT_ENABLED: 'false',
    ...env,
  });
  let raw = '';
  const sink = new Writable({ write: (chunk, _encoding, done) => void ((raw += chunk.toString()), done()) });
  const running = startServer(config, createLogger('info', sink), { db });
  running.then(
    (server) => cleanups.push(() => server.close()),
    () => {},
  );
  return { running, logs: () => raw };
}

async function testDatabase(): Promise<Database> {
  const { db, dispose } = await openTestDatabase();
  cleanups.push(dispose);
  return db;
}

/** A keys.json unlike `keys`: other key ids, cookie key and DPoP nonce secret. */
function otherKeys(keys: ProviderKeys): ProviderKeys {
  return {
    jwks: { keys: keys.jwks.keys.map((jwk) => ({ ...jwk, kid: randomUUID() })) },
    cookieKeys: [randomBytes(32).toString('base64url')],
    dpopNonceSecret: randomBytes(32).toString('base64url'),
  };
}

/** Every private value of a keys.json: what must never be found in the database in clear. */
function privateValues(keys: ProviderKeys): string[] {
  const jwkSecrets = keys.jwks.keys.flatMap((jwk) =>
    ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((name) => (jwk as Record<string, unknown>)[name]).filter((v): v is string => typeof v === 'string'),
  );
  return [...jwkSecrets, ...keys.cookieKeys, keys.dpopNonceSecret!];
}

describe('keys in the database', { timeout: SERVER_TEST_TIMEOUT_MS }, () => {
  it('imports keys.json once, encrypted: no private key, cookie key or secret in clear; /jwks serves its keys', async () => {
    const keys = testProviderKeys();
    const dataDir = await tempDir(keys);
    const db = await testDatabase();
    const { running, logs } = await start(db, dataDir);
    const server = await running;

    expect(logs()).toContain('imported the signing and cookie keys from keys.json');
    // Without KEYS_ENCRYPTION_KEY, a database other instances may share gets a warning.
    expect(logs().includes('KEYS_ENCRYPTION_KEY is unset')).toBe(usingPostgres);
    expect(logs()).toContain(join(dataDir, 'keys.json'));
    const rows = await db.prisma.providerKey.findMany();
    const stored = JSON.stringify(rows);
    for (const secret of privateValues(keys)) expect(stored).not.toContain(secret);
    for (const row of rows) expect(row.publicJwk === null || !('d' in (row.publicJwk as object))).toBe(true);
    expect(logs()).not.toMatch(/"d":|BEGIN|sealed/);

    const jwks = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kid: string; d?: string }[] };
    expect(jwks.keys.map((key) => key.kid).sort()).toEqual(keys.jwks.keys.map((key) => key.kid).sort());
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true);

    // The file is left where it was, and never read again: the database's keys are the keys now.
    const kek = Buffer.from((await readFile(join(dataDir, KEK_FILE), 'utf8')).trim(), 'base64url');
    expect((await stat(join(dataDir, KEK_FILE))).mode & 0o777).toBe(0o600);
    await writeFile(join(dataDir, 'keys.json'), JSON.stringify(otherKeys(keys)));
    expect(await ensureKeys(db, kek, dataDir, new Date())).toEqual({ generated: [] });
    const loaded = await loadKeys(db, kek);
    expect(loaded.signing.map((key) => key.kid).sort()).toEqual(keys.jwks.keys.map((key) => key.kid).sort());
    expect(loaded.cookieKeys).toEqual(keys.cookieKeys);
    expect(loaded.secrets.dpop_nonce.toString('base64url')).toBe(keys.dpopNonceSecret);
  });

  it('generates the keys on a first start without keys.json, one signing key per algorithm', async () => {
    const dataDir = await tempDir();
    const db = await testDatabase();
    const { running, logs } = await start(db, dataDir, { KEYS_ENCRYPTION_KEY: randomBytes(32).toString('hex') });
    await running;
    expect(logs()).toContain('generated keys in the database');
    const signing = await db.prisma.providerKey.findMany({ where: { kind: 'signing' } });
    expect(signing.map((row) => [row.alg, row.state]).sort()).toEqual([
      ['ES256', 'current'],
      ['EdDSA', 'current'],
      ['RS256', 'current'],
    ]);
  });

  it('stops in one line when KEYS_ENCRYPTION_KEY is not the one the keys were encrypted with', async () => {
    const dataDir = await tempDir(testProviderKeys());
    const db = await testDatabase();
    const first = await start(db, dataDir, { KEYS_ENCRYPTION_KEY: randomBytes(32).toString('base64url') });
    await (await first.running).close();

    const second = await start(db, await tempDir(), { KEYS_ENCRYPTION_KEY: randomBytes(32).toString('hex') });
    const err = await second.running.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toMatch(
      /^the keys in the database do not decrypt with KEYS_ENCRYPTION_KEY: start with the KEYS_ENCRYPTION_KEY they were encrypted with/,
    );
    expect((err as Error).message).not.toContain('\n');
  });

  it('refuses a KEYS_ENCRYPTION_KEY that is not 32 bytes, in one line that does not show it', () => {
    for (const value of ['abc', randomBytes(31).toString('hex'), randomBytes(33).toString('base64url')]) {
      const err = (() => {
        try {
          loadConfig({ KEYS_ENCRYPTION_KEY: value });
        } catch (e) {
          return e as Error;
        }
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect(err!.message).toMatch(/^invalid configuration: KEYS_ENCRYPTION_KEY must be 32 random bytes/);
      expect(err!.message).not.toContain(value);
    }
    expect(loadConfig({ KEYS_ENCRYPTION_KEY: randomBytes(32).toString('base64url') }).keys.encryptionKey).toHaveLength(32);
  });

  it('imports keys.json once when two instances start together', async () => {
    const keys = testProviderKeys();
    const kek = randomBytes(32);
    let first: Database;
    let second: Database;
    if (usingPostgres) {
      const database = await createPostgresDatabase();
      cleanups.push(() => database.drop());
      [first, second] = [await openDatabase({ url: database.url }), await openDatabase({ url: database.url })];
      cleanups.push(
        () => first.close(),
        () => second.close(),
      );
    } else {
      first = second = await testDatabase();
    }
    const [dirA, dirB] = [await tempDir(keys), await tempDir(keys)];
    const results = await Promise.all([ensureKeys(first, kek, dirA, new Date()), ensureKeys(second, kek, dirB, new Date())]);
    expect(results.filter((result) => result.importedFrom)).toHaveLength(1);
    const rows = await first.prisma.providerKey.findMany();
    expect(rows.filter((row) => row.kind === 'signing')).toHaveLength(3);
    expect(rows.filter((row) => row.kind === 'cookie')).toHaveLength(1);
    expect(
      rows
        .filter((row) => row.kind === 'secret')
        .map((row) => row.id)
        .sort(),
    ).toEqual(['csrf', 'dpop_nonce']);
  });
});
