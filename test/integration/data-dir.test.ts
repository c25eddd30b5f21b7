// DATA_DIR on the embedded store: private whatever the umask, refused when others can write to it,
// and a disk that is full or read-only told in one line at start-up, cleaned up after a first start
// that stopped midway (and only then), and reported by /readyz while it fails writes (on a tmpfs of
// the test's own), with one probe write shared by the readiness checks of a second.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ADMIN_SECRET_FILE } from '../../src/admin/bootstrap.js';
import { PROBE_REUSE_MS, probeWrite, sharedProbe } from '../../src/db/data-dir.js';
import { DataDirError, openDatabase } from '../../src/db/database.js';
import { CREATING_MARKER } from '../../src/db/embedded.js';
import { LOCK_FILE } from '../../src/db/lock.js';
import { createLogger } from '../../src/http/logger.js';
import { KEK_FILE } from '../../src/keys/encryption.js';
import { startServer, StartupError, type RunningServer } from '../../src/server.js';
import { advanceClock } from '../helpers/clock.js';
import { fileCleanups } from '../helpers/file-cleanups.js';
import { clientCredentialsToken, postForm } from '../helpers/oauth.js';
import { pgliteDump, seedDataDir, testConfig, writeTestKeys } from '../helpers/prepared.js';
import { programAvailable, tmpfsAvailable } from '../helpers/requirements.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, freePort, SERVER_TEST_TIMEOUT_MS, usingPostgres } from '../helpers/tollgate.js';

const cleanups = fileCleanups('tollgate-data-dir-');
const tempDir = cleanups.tempDir;
afterEach(() => {
  vi.useRealTimers();
});

async function tmpfs(size: string): Promise<Tmpfs> {
  const fs = await mountTmpfs(size);
  cleanups.push(() => fs.unmount());
  return fs;
}

/** startServer on the embedded store in `dataDir`, as main.ts calls it; a server that starts is closed after the file. */
async function start(dataDir: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const config = testConfig({
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    ADMIN_CLIENT_ID,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_ENABLED: 'false',
    ...env,
  });
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const running = await startServer(config, createLogger('silent', sink), { terminal: { write: () => true, isTTY: false } });
  cleanups.push(() => running.close());
  return running;
}

/** The one line a failed start-up explains itself in. */
async function failure(dataDir: string): Promise<string> {
  const err = await start(dataDir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StartupError);
  const { message } = err as StartupError;
  expect(message).not.toContain('\n');
  return message;
}

/** Every entry under `dir` with its size: what a start-up must leave as it found it. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(entries.map(async (entry) => `${join(entry.parentPath, entry.name)} ${(await lstat(join(entry.parentPath, entry.name))).size}`)).then(
    (lines) => lines.sort(),
  );
}

/** Every entry under `dir` whose permissions reach beyond its owner, with its mode. */
async function looseEntries(dir: string): Promise<string[]> {
  const loose: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const { mode } = await lstat(path);
    if (mode & 0o077 && !entry.isSymbolicLink()) loose.push(`${path} ${(mode & 0o777).toString(8)}`);
  }
  return loose;
}

/** Folders 0755 and files 0644, as a server under umask 022 laid them out before data folders were made private. */
async function loosen(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (!entry.isSymbolicLink()) await chmod(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
}

// The embedded store only: DATA_DIR is where its database lives.
describe.skipIf(usingPostgres)('a private DATA_DIR', () => {
  it('is 0700 with every file 0600 under umask 022, and the database, key, secret, lock and socket are all in it', {
    timeout: SERVER_TEST_TIMEOUT_MS,
  }, async () => {
    const previous = process.umask(0o022);
    try {
      const dataDir = join(await tempDir(), 'data');
      // Laid out under umask 022, as by a server before this change: folders 0755, files 0644.
      await seedDataDir(dataDir, 'inMemory');
      await writeTestKeys(dataDir);
      // The seed's modes are those of whichever umask wrote it first in this worker: set them.
      await loosen(dataDir);
      expect((await looseEntries(dataDir)).length).toBeGreaterThan(100);
      const running = await start(dataDir);
      // A token written, so PostgreSQL has created files of its own since.
      expect((await clientCredentialsToken(running.url, ADMIN_CLIENT_ID, 'wrong')).status).toBe(401);
      for (const file of [ADMIN_SECRET_FILE, KEK_FILE, LOCK_FILE, 'PG_VERSION', join('admin', 'admin.sock')])
        expect(existsSync(join(dataDir, file)), file).toBe(true);
      expect((await lstat(dataDir)).mode & 0o777).toBe(0o700);
      expect(await looseEntries(dataDir)).toEqual([]);
    } finally {
      process.umask(previous);
    }
  });

  it('writable by other users stops start-up with one line saying how to fix it', async () => {
    const dataDir = await tempDir();
    await chmod(dataDir, 0o777);
    expect(await failure(dataDir)).toBe(
      `DATA_DIR ${dataDir} is writable by other users (mode 0777): chmod 700 ${dataDir}, after checking nobody changed its contents`,
    );
    await chmod(dataDir, 0o770);
    expect(await failure(dataDir)).toContain('writable by other users (mode 0770)');
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });

  it('reached through a symbolic link (systemd StateDirectory= with DynamicUser=) starts, and the folder it leads to is made private', {
    timeout: SERVER_TEST_TIMEOUT_MS,
  }, async () => {
    const parent = await tempDir();
    const real = join(parent, 'private', 'data');
    await mkdir(real, { recursive: true });
    await seedDataDir(real, 'inMemory');
    await writeTestKeys(real);
    await chmod(real, 0o755);
    const link = join(parent, 'data');
    await symlink(real, link);
    const running = await start(link);
    expect((await fetch(`${running.url}/readyz`)).status).toBe(200);
    expect((await stat(real)).mode & 0o777).toBe(0o700);
  });

  it('holding PostgreSQL files without PG_VERSION, and without the mark of a first start, stops start-up with one line and is left untouched', {
    timeout: SERVER_TEST_TIMEOUT_MS,
  }, async () => {
    const dataDir = await tempDir();
    await seedDataDir(dataDir, 'inMemory');
    await rm(join(dataDir, 'PG_VERSION'));
    await writeFile(join(dataDir, 'pg_dump.sql'), "an operator's dump\n", { mode: 0o600 });
    const before = await tree(dataDir);
    expect(await failure(dataDir)).toMatch(
      new RegExp(
        `^DATA_DIR ${dataDir} holds PostgreSQL files \\(base, global, pg_commit_ts, pg_dump\\.sql and \\d+ more\\) but no PG_VERSION, and no first start of Tollgate left them: restore DATA_DIR from a backup, or move those files away to start with a new database$`,
      ),
    );
    expect(await tree(dataDir)).toEqual(before);
  });

  it('owned by another user stops start-up with one line', async () => {
    const dataDir = await tempDir();
    await chown(dataDir, 65534, 65534);
    expect(await failure(dataDir)).toBe(
      `DATA_DIR ${dataDir} belongs to another user (uid 65534, Tollgate runs as uid ${process.getuid!()}): chown -R ${process.getuid!()} ${dataDir}, or run Tollgate as its owner`,
    );
  });
});

describe.skipIf(usingPostgres || !tmpfsAvailable())('a DATA_DIR on a bad disk (a tmpfs of its own)', () => {
  it('a full disk at the first start is one line; the half-built database it leaves is removed by the next start, which succeeds', {
    timeout: SERVER_TEST_TIMEOUT_MS,
  }, async () => {
    const disk = await tmpfs('4m');
    const dataDir = join(disk.dir, 'data');
    // Opened as a server opens it (which says the same line, as the read-only case shows), but laid
    // out from the run's dump rather than by initdb, to be quick.
    const from = await pgliteDump('inMemory');
    const err = await openDatabase({ dataDir, from }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataDirError);
    expect((err as Error).message).toMatch(
      new RegExp(`^DATA_DIR ${dataDir}: no space left on its disk \\(ENOSPC\\).*: free space or grow the volume, then start again$`),
    );
    // Left behind: part of a database, and the marker that says it is unfinished.
    expect(existsSync(join(dataDir, CREATING_MARKER))).toBe(true);
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
    disk.remount('size=256m');
    const db = await openDatabase({ dataDir, from });
    try {
      expect(existsSync(join(dataDir, CREATING_MARKER))).toBe(false);
      await db.checkReady();
    } finally {
      await db.close();
    }
  });

  it('a read-only disk is one line naming EROFS', async () => {
    const disk = await tmpfs('128m');
    const dataDir = join(disk.dir, 'data');
    await seedDataDir(dataDir, 'inMemory');
    disk.remount('ro');
    expect(await failure(dataDir)).toBe(`DATA_DIR ${dataDir} is on a read-only filesystem (EROFS): mount it read-write, or set DATA_DIR to a writable folder`);
  });

  // Read-only under a running server is not tested: Linux refuses to remount a file system read-only
  // while files on it are open for writing, as the database's are.
  it('/readyz is 503 while the disk is full and 200 once it has room again; no issued token is lost', { timeout: SERVER_TEST_TIMEOUT_MS }, async () => {
    const disk = await tmpfs('256m');
    const dataDir = join(disk.dir, 'data');
    await seedDataDir(dataDir, 'inMemory');
    await writeTestKeys(dataDir);
    const running = await start(dataDir, { ADMIN_CLIENT_SECRET });
    const ready = async () => (await fetch(`${running.url}/readyz`)).status;
    const issued: string[] = [];
    const issue = async () => {
      const { status, body } = await clientCredentialsToken(running.url, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, 'admin');
      // Refused when the write fails (503), never a 500; what was answered 200 is kept.
      expect([200, 503]).toContain(status);
      if (status === 200) issued.push(body.access_token as string);
    };
    expect(await ready()).toBe(200);
    await issue();

    await disk.fill();
    // Past the second a probe's result answers for.
    advanceClock(PROBE_REUSE_MS);
    expect(await ready()).toBe(503);
    for (let i = 0; i < 20; i++) await issue();
    await disk.free();
    advanceClock(PROBE_REUSE_MS);
    expect(await ready()).toBe(200);

    await issue();
    for (const token of issued) {
      const { body } = await postForm(running.url, '/introspect', { token }, [ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET]);
      expect(body.active, token).toBe(true);
    }
  });
});

// /readyz is public: however often it is asked, DATA_DIR's disk takes at most one synced write a second.
describe('readiness probes of DATA_DIR', () => {
  it('asked together share one write; asked again within the second get its result; one more write after it', async () => {
    const dir = await tempDir();
    // Date stands still from here but for the test's own moves.
    advanceClock(0);
    let writes = 0;
    const probe = sharedProbe(() => {
      writes++;
      return probeWrite(dir);
    });
    await Promise.all(Array.from({ length: 20 }, () => probe()));
    expect(writes).toBe(1);
    advanceClock(PROBE_REUSE_MS - 1);
    await probe();
    expect(writes).toBe(1);
    advanceClock(1);
    await Promise.all([probe(), probe()]);
    expect(writes).toBe(2);
  });

  it('a failed write is the answer for the same second, then tried again', async () => {
    const dir = join(await tempDir(), 'not-yet');
    advanceClock(0);
    const probe = sharedProbe(() => probeWrite(dir));
    await expect(probe()).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(dir);
    await expect(probe()).rejects.toMatchObject({ code: 'ENOENT' });
    advanceClock(PROBE_REUSE_MS);
    await probe();
  });
});

/**
 * How many fsync(2) and fdatasync(2) calls a process makes while it commits `commits` single-row
 * transactions to the embedded database in `dataDir`, opened with each of `durabilities` in turn
 * (one process for all: loading tsx and PGlite is most of its cost), counted by strace.
 */
async function syncCallsPerCommits(strace: string, dataDir: string, durabilities: string[], commits: number): Promise<number[]> {
  const script = [
    `import { openDatabase } from ${JSON.stringify(join(process.cwd(), 'src/db/database.ts'))};`,
    `for (const durability of ${JSON.stringify(durabilities)}) {`,
    `  const db = await openDatabase({ dataDir: ${JSON.stringify(dataDir)}, durability });`,
    `  await db.sql('t', 'CREATE TABLE IF NOT EXISTS sync_probe (n int)', []);`,
    `  process.stdout.write('commits-begin-' + durability + '\\n');`,
    `  for (let i = 0; i < ${commits}; i++) await db.sql('i', 'INSERT INTO sync_probe VALUES ($1)', [i]);`,
    `  process.stdout.write('commits-end-' + durability + '\\n');`,
    `  await db.close();`,
    `}`,
    `process.exit(0);`,
  ].join('\n');
  const traceFile = join(dataDir, '..', 'strace.txt');
  // --seccomp-bpf stops the traced process only at the calls counted, not at every system call: under
  // plain ptrace, loading tsx and PGlite took minutes on a busy machine. Run without blocking the
  // worker, whose other tests and timeouts go on meanwhile.
  await promisify(execFile)(strace, [
    '-f',
    '--seccomp-bpf',
    '-qq',
    '-e',
    'trace=fsync,fdatasync,write',
    '-o',
    traceFile,
    process.execPath,
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    script,
  ]);
  // The calls between the markers the script writes around each durability's commits.
  const lines = (await readFile(traceFile, 'utf8')).split('\n');
  return durabilities.map((durability) => {
    const begin = lines.findIndex((line) => line.includes(`commits-begin-${durability}`));
    const end = lines.findIndex((line) => line.includes(`commits-end-${durability}`));
    expect(begin, `strace saw the script start its commits (${durability})`).toBeGreaterThan(-1);
    return lines.slice(begin, end).filter((line) => /\b(fsync|fdatasync)\(/.test(line)).length;
  });
}

describe.skipIf(usingPostgres)('EMBEDDED_DURABILITY', () => {
  it('fsync (the default) runs PostgreSQL with fsync on and syncing by fsync(); none runs it as PGlite does', { timeout: SERVER_TEST_TIMEOUT_MS }, async () => {
    const dataDir = join(await tempDir(), 'data');
    const from = await pgliteDump('inMemory');
    for (const [durability, fsync, method] of [
      [undefined, 'on', 'fsync'],
      ['none', 'off', 'fdatasync'],
    ] as const) {
      const db = await openDatabase({ dataDir, durability, from });
      try {
        const [row] = await db.sql('settings', "SELECT current_setting('fsync') AS fsync, current_setting('wal_sync_method') AS method", []);
        expect(row, durability).toEqual({ fsync, method });
      } finally {
        await db.close();
      }
    }
  });

  it('fsync: strace sees at least one fsync(2) per commit; none: not one', { timeout: SERVER_TEST_TIMEOUT_MS }, async (ctx) => {
    const strace = programAvailable('strace', ['/usr/bin/strace']);
    if (!strace) return ctx.skip();
    const dataDir = join(await tempDir(), 'data');
    await seedDataDir(dataDir, 'inMemory');
    const [fsync, none] = await syncCallsPerCommits(strace, dataDir, ['fsync', 'none'], 20);
    expect(fsync).toBeGreaterThanOrEqual(20);
    expect(none).toBe(0);
  });
});
