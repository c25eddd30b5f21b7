// PGlite runs PostgreSQL with fsync off (`-F`), and its Node file system could not sync anyway: the
// WASM build's fdatasync() does nothing, and fsync() reaches the file system only if that has an
// `fsync` stream operation, which Emscripten's NODEFS lacks. So a commit was written to the OS's page
// cache, safe from a crash of the process but not from a power cut. With durability on, PostgreSQL
// runs with fsync on and wal_sync_method=fsync, and NODEFS gets the missing operation: each commit
// reaches the disk (fsync(2)) before it is acknowledged.
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';

/** How embedded commits are written (EMBEDDED_DURABILITY). */
export type EmbeddedDurability = 'fsync' | 'none';

/** PostgreSQL's start parameters in PGlite for `durability`: PGlite's own, with fsync on for 'fsync'. */
export function startParams(durability: EmbeddedDurability): string[] {
  const params = PGlite.defaultStartParams;
  if (durability === 'none') return params;
  if (!params.includes('-F')) throw new Error('PGlite start parameters changed: -F (fsync off) not found; check src/db/durable-nodefs.ts against this PGlite');
  return [...params.filter((param) => param !== '-F'), '-c', 'fsync=on', '-c', 'wal_sync_method=fsync'];
}

/** The parts of Emscripten's NODEFS this patch relies on. */
interface NodeFsModule {
  filesystems?: { NODEFS?: { stream_ops?: Record<string, unknown>; realPath?: (node: unknown) => string } };
}

interface NodeFsStream {
  nfd?: number;
  node: unknown;
}

/** PGlite's NodeFS with an `fsync` stream operation: a file is synced by its descriptor, a folder opened and synced. */
export class DurableNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Parameters<NodeFS['init']>[1]): ReturnType<NodeFS['init']> {
    const result = await super.init(pg, opts);
    const preRun = result.emscriptenOpts.preRun ?? [];
    result.emscriptenOpts.preRun = [...preRun, (mod) => addFsync(mod.FS as unknown as NodeFsModule)];
    return result;
  }
}

function addFsync(fs: NodeFsModule): void {
  const nodefs = fs.filesystems?.NODEFS;
  const { stream_ops: ops, realPath } = nodefs ?? {};
  // Checked where it is patched: a PGlite that moved these fails start-up instead of syncing nothing.
  if (!ops || typeof ops.write !== 'function' || typeof realPath !== 'function') {
    throw new Error('PGlite file system changed: NODEFS stream operations not found; check src/db/durable-nodefs.ts against this PGlite');
  }
  if (typeof ops.fsync === 'function') return;
  // The return value is the errno: a failed sync is an I/O error to PostgreSQL, never a success.
  ops.fsync = (stream: NodeFsStream) => {
    try {
      syncStream(stream, (node) => realPath.call(nodefs, node));
      return 0;
    } catch {
      return WASI_EIO;
    }
  };
}

const WASI_EIO = 29;

function syncStream(stream: NodeFsStream, pathOf: (node: unknown) => string): void {
  if (stream.nfd !== undefined) return fsyncSync(stream.nfd);
  // A folder: PostgreSQL syncs them after creating or renaming files in them.
  const fd = openSync(pathOf(stream.node), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
