// DATA_DIR holds the embedded database, the key-encryption key, the first admin secret and the admin
// socket: it is the user's alone (0700, files 0600, whatever the umask), and a folder someone else
// could write to is refused, since they could swap any of those. Disk failures there (full,
// read-only, not ours) are told in one line that names the cause and the fix.
import { chmod, lstat, mkdir, open, readdir, realpath, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** DATA_DIR cannot be used, told in one line (the message); `cause` keeps the system's error. */
export class DataDirError extends Error {}

/**
 * Creates `dir` (0700) or checks the existing one: ours, a folder, and writable by nobody else;
 * then takes group and other permissions away. A link to a folder is checked as the folder it
 * leads to (systemd's StateDirectory= with DynamicUser= makes DATA_DIR such a link), whose path
 * is returned: PGlite's file system does not follow a link at its root.
 */
export async function preparePrivateDir(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const real = await realpath(dir);
    const folder = await stat(real);
    if (!folder.isDirectory()) throw new DataDirError(`DATA_DIR ${dir} is not a folder: set DATA_DIR to a folder`);
    const uid = process.getuid?.();
    if (uid !== undefined && folder.uid !== uid) {
      throw new DataDirError(
        `DATA_DIR ${dir} belongs to another user (uid ${folder.uid}, Tollgate runs as uid ${uid}): chown -R ${uid} ${dir}, or run Tollgate as its owner`,
      );
    }
    if (folder.mode & 0o022) {
      throw new DataDirError(
        `DATA_DIR ${dir} is writable by other users (mode ${octal(folder.mode)}): chmod 700 ${dir}, after checking nobody changed its contents`,
      );
    }
    if (folder.mode & 0o077) await chmod(real, 0o700);
    return real;
  } catch (err) {
    throw explainDiskFailure(err, dir);
  }
}

/**
 * Makes every folder under `dir` 0700 and every file 0600 (sockets and links are left alone):
 * PGlite lays a new database out with the umask's modes. With `sync`, each is also written to disk
 * (fsync), folders after what they hold.
 */
export async function makeTreePrivate(dir: string, { sync = false } = {}): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await chmodIfLoose(path, 0o700);
      await makeTreePrivate(path, { sync });
    } else if (entry.isFile()) {
      await chmodIfLoose(path, 0o600);
      if (sync) await syncPath(path);
    }
  }
  if (sync) await syncPath(dir);
}

async function chmodIfLoose(path: string, mode: number): Promise<void> {
  if ((await lstat(path)).mode & 0o077) await chmod(path, mode);
}

/** Writes `path` (a file, or a folder's entries) to disk: fsync. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes (and syncs) a small file in `dir` and removes it: throws the system's error when the disk
 * is full, read-only or failing. Readiness checks share it (sharedProbe).
 */
export async function probeWrite(dir: string): Promise<void> {
  const path = join(dir, '.tollgate-write-probe');
  const file = await open(path, 'w', 0o600);
  try {
    // A page-sized write: a disk with less room than one database page cannot take a write either.
    await file.write(Buffer.alloc(8192));
    await file.sync();
  } finally {
    await file.close();
    await rm(path, { force: true });
  }
}

/** How long one write probe's result answers for: /readyz is public, and every probe is an fsync. */
export const PROBE_REUSE_MS = 1000;

/**
 * `probe`, run once for all who ask while it runs, and its result (ready or not) given again for
 * PROBE_REUSE_MS after it started, on Date's clock: readiness checks, however many, sync at most one
 * write a second.
 */
export function sharedProbe(probe: () => Promise<void>): () => Promise<void> {
  let last: { result: Promise<void>; startedAt: number } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.startedAt >= PROBE_REUSE_MS || now < last.startedAt) {
      const result = probe();
      // Every caller awaits it; this only keeps a failure nobody asks for again from going unhandled.
      result.catch(() => {});
      last = { result, startedAt: now };
    }
    return last.result;
  };
}

/**
 * Codes for disk failures: Node's, and the WASI numbers PGlite's file system reports them with
 * (an object with `errno` and no message).
 */
const WASI_CODES: Record<number, string> = { 2: 'EACCES', 19: 'EDQUOT', 29: 'EIO', 51: 'ENOSPC', 63: 'EPERM', 69: 'EROFS' };
/** SQLSTATEs for the same, from the database's own writes. */
const SQLSTATE_CODES: Record<string, string> = { '53100': 'ENOSPC', '58030': 'EIO' };

/** The disk failure code of `err` (ENOSPC, EROFS, EACCES, EPERM, EDQUOT, EIO), looked for in its causes too. */
export function diskFailureCode(err: unknown): string | undefined {
  for (
    let e = err as { code?: unknown; errno?: unknown; cause?: unknown } | undefined, depth = 0;
    e && typeof e === 'object' && depth < 5;
    e = e.cause as typeof e, depth++
  ) {
    if (typeof e.code === 'string') {
      if (/^E(NOSPC|ROFS|ACCES|PERM|DQUOT|IO)$/.test(e.code)) return e.code;
      if (SQLSTATE_CODES[e.code]) return SQLSTATE_CODES[e.code];
    }
    if (typeof e.errno === 'number' && !(e instanceof Error) && WASI_CODES[e.errno]) return WASI_CODES[e.errno];
  }
  return undefined;
}

/** `err` as a DataDirError naming the cause and the fix when it is a disk failure in `dir`; otherwise `err` itself. */
export function explainDiskFailure(err: unknown, dir: string): unknown {
  if (err instanceof DataDirError) return err;
  const code = diskFailureCode(err);
  const line = code && describeDiskFailure(code, dir);
  return line ? new DataDirError(line, { cause: err }) : err;
}

function describeDiskFailure(code: string, dir: string): string | undefined {
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `DATA_DIR ${dir}: no space left on its disk (${code}): free space or grow the volume, then start again`;
    case 'EROFS':
      return `DATA_DIR ${dir} is on a read-only filesystem (EROFS): mount it read-write, or set DATA_DIR to a writable folder`;
    case 'EACCES':
    case 'EPERM':
      return `DATA_DIR ${dir} is not writable by this user (${code}, uid ${process.getuid?.() ?? '?'}): give it to the user Tollgate runs as (chown -R), or set DATA_DIR`;
    case 'EIO':
      return `DATA_DIR ${dir}: the disk reported an I/O error (EIO): check the disk and the system log before starting again`;
  }
  return undefined;
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}
