// Opening the embedded database in DATA_DIR: a private folder, locked against a second process, a
// first start that can fail midway without leaving a folder that blocks the next one, and commits
// synced to disk unless EMBEDDED_DURABILITY says otherwise.
import { existsSync } from 'node:fs';
import { readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';
import { DataDirError, explainDiskFailure, makeTreePrivate, preparePrivateDir, probeWrite, syncPath } from './data-dir.js';
import { DurableNodeFS, startParams, type EmbeddedDurability } from './durable-nodefs.js';
import { lockDataDir } from './lock.js';

/**
 * Present while a new database is being laid out in DATA_DIR, removed once it opens: found at start,
 * it means the first start stopped midway (a full disk, a kill), and what it left is removed.
 */
export const CREATING_MARKER = 'tollgate-creating-database';

export interface EmbeddedDatabase {
  pglite: PGlite;
  /** Closes PGlite and releases DATA_DIR. */
  close(): Promise<void>;
}

/**
 * Opens (creating it on first use, from the dump `from` if given) the embedded database in
 * `configuredDir` (the folder it leads to, if a link); a disk failure is a DataDirError in one line.
 */
export async function openEmbedded(configuredDir: string, durability: EmbeddedDurability, from?: Blob): Promise<EmbeddedDatabase> {
  const dataDir = await preparePrivateDir(configuredDir);
  const unlock = await lockDataDir(dataDir).catch((err: unknown) => {
    throw explainDiskFailure(err, dataDir);
  });
  let pglite: PGlite | undefined;
  let creating = false;
  try {
    const halfBuilt = existsSync(join(dataDir, CREATING_MARKER));
    creating = halfBuilt || !(await holdsDatabase(dataDir));
    if (creating) await createDatabase(dataDir, durability, from, halfBuilt);
    pglite = new PGlite({ fs: durability === 'fsync' ? new DurableNodeFS(dataDir) : new NodeFS(dataDir), startParams: startParams(durability) });
    await pglite.waitReady;
    // Laid out by PGlite with the umask's modes, or by an earlier version; PostgreSQL creates its
    // later files 0600 itself.
    await makeTreePrivate(dataDir);
  } catch (err) {
    await pglite?.close().catch(() => {});
    await unlock();
    throw await explainOpenFailure(err, dataDir, creating);
  }
  const opened = pglite;
  return {
    pglite: opened,
    async close() {
      await opened.close();
      await unlock();
    },
  };
}

/**
 * Lays out a new database, behind a marker removed only once it is complete (and, with fsync, on
 * disk). PGlite creates it with its plain Node file system: given another, it would also hand that
 * one to the scratch instance it runs initdb in.
 */
async function createDatabase(dataDir: string, durability: EmbeddedDurability, from: Blob | undefined, halfBuilt: boolean): Promise<void> {
  if (halfBuilt) await removeHalfBuiltDatabase(dataDir);
  const marker = join(dataDir, CREATING_MARKER);
  await writeFile(marker, 'a new database is being created here; if no Tollgate runs, the next start removes it and begins again\n', { mode: 0o600 });
  // On disk before PostgreSQL's files are: files without it are refused at the next start, not removed.
  if (durability === 'fsync') await syncPath(dataDir);
  const pglite = new PGlite(dataDir, { loadDataDir: from });
  try {
    await pglite.waitReady;
  } finally {
    await pglite.close().catch(() => {});
  }
  await makeTreePrivate(dataDir, { sync: durability === 'fsync' });
  await rm(marker);
  // Until the folder is on disk, a power cut could bring the marker back, and the next start would
  // remove a database that clients were already given tokens from.
  if (durability === 'fsync') await syncPath(dataDir);
}

/** PostgreSQL's own entries in a data folder: what a first start that stopped midway leaves. */
const POSTGRES_ENTRY = /^(PG_VERSION|base|global|pg_.*|postgresql\..*|postmaster\..*)$/;

/**
 * Whether `dataDir` holds a database (PG_VERSION). PostgreSQL's entries without it, and without the
 * marker that says Tollgate was creating them, are not Tollgate's to remove: start-up stops instead.
 */
async function holdsDatabase(dataDir: string): Promise<boolean> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return true;
  const found = (await readdir(dataDir)).filter((name) => POSTGRES_ENTRY.test(name)).sort();
  if (found.length === 0) return false;
  const named = found.length > 4 ? `${found.slice(0, 4).join(', ')} and ${found.length - 4} more` : found.join(', ');
  throw new DataDirError(
    `DATA_DIR ${dataDir} holds PostgreSQL files (${named}) but no PG_VERSION, and no first start of Tollgate left them: restore DATA_DIR from a backup, or move those files away to start with a new database`,
  );
}

/** Removes a database a first start left unfinished (behind the marker); Tollgate's own files (the key, the lock) stay. */
async function removeHalfBuiltDatabase(dataDir: string): Promise<void> {
  for (const name of await readdir(dataDir)) {
    if (POSTGRES_ENTRY.test(name)) await rm(join(dataDir, name), { recursive: true, force: true });
  }
}

/** Room a new database takes: its files (~21 MiB) and a first WAL segment (16 MiB), with a margin. */
const NEW_DATABASE_BYTES = 64 * 1024 * 1024;

/**
 * Why the database did not open, in one line: a disk failure (PGlite often says only that it failed
 * to initialise: the disk is then tried with a write, and a new database is measured against the
 * room left), or a database PGlite cannot read.
 */
async function explainOpenFailure(err: unknown, dataDir: string, creating: boolean): Promise<unknown> {
  if (err instanceof DataDirError) return err;
  const explained = explainDiskFailure(err, dataDir);
  if (explained !== err) return explained;
  const probed = await probeWrite(dataDir).then(
    () => undefined,
    (probeErr: unknown) => explainDiskFailure(probeErr, dataDir),
  );
  if (probed instanceof DataDirError) return new DataDirError(probed.message, { cause: err });
  const free = creating ? await freeBytes(dataDir) : Infinity;
  if (free < NEW_DATABASE_BYTES) {
    return new DataDirError(
      `DATA_DIR ${dataDir}: no space left on its disk (ENOSPC) for a new database (${mebibytes(free)} MiB free, about ${mebibytes(NEW_DATABASE_BYTES)} MiB needed): free space or grow the volume, then start again`,
      { cause: err },
    );
  }
  if (err instanceof Error) return err;
  // PGlite's file system reports other failures as a bare object with an errno.
  const errno = (err as { errno?: unknown } | undefined)?.errno;
  return new DataDirError(
    `DATA_DIR ${dataDir}: the embedded database does not open (file system errno ${String(errno)}): restore DATA_DIR from a backup, or move it away to start with a new database`,
    { cause: err },
  );
}

async function freeBytes(dir: string): Promise<number> {
  const { bavail, bsize } = await statfs(dir);
  return Number(bavail) * Number(bsize);
}

const mebibytes = (bytes: number) => Math.floor(bytes / 1024 / 1024);
