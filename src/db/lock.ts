// PGlite keeps a whole PostgreSQL in one process with no lock of its own: two processes opening the
// same folder (a running server and the admin CLI) would corrupt it. A lock file holding the pid
// of the owner keeps them apart; one left behind by a process that has died is taken over.
import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'tollgate.lock';

export class DatabaseInUseError extends Error {}

/** Folders this process holds, so a second open in the same process is refused too. */
const held = new Set<string>();

/** Takes `<dir>/tollgate.lock` or throws DatabaseInUseError; returns the function that releases it. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  // Written aside and hard-linked into place: the link appears atomically and complete, so no
  // other opener ever reads a half-written pid.
  const scratch = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(scratch, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(scratch, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = await readOwner(path);
        // A second EEXIST means another opener took the stale lock over first.
        if (attempt > 0 || (owner !== undefined && isRunning(owner, path))) throw inUse(dir, path, owner);
        await unlink(path).catch(ignoreMissing);
      }
    }
  } finally {
    await unlink(scratch).catch(ignoreMissing);
  }
  held.add(path);
  return async () => {
    held.delete(path);
    await unlink(path).catch(ignoreMissing);
  };
}

async function readOwner(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function isRunning(pid: number, path: string): boolean {
  // Our own pid in the file: held by us, or left by an earlier life of a process that got the same
  // pid again (PID 1 in a restarted container).
  if (pid === process.pid) return held.has(path);
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function inUse(dir: string, path: string, owner?: number): DatabaseInUseError {
  const who = owner === undefined ? 'another process' : `process ${owner}`;
  return new DatabaseInUseError(`the embedded database in ${dir} is in use by ${who}; stop it or use the admin API (lock file: ${path})`);
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
