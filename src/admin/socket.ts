// The admin socket: a running server answers the admin API on a Unix socket in DATA_DIR, so the
// admin CLI beside it works without stopping it (the embedded database admits one process only).
// File permissions are the whole authorization: the socket is mode 0600 in a folder of mode 0700
// owned by the server's user, so only that user (and root) can connect, and whoever connects acts
// as the administrator. It is never a TCP port, and the TCP admin API keeps its token check.
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { preparePrivateDir } from '../db/data-dir.js';

/** Where a server on `dataDir` listens: a folder of its own, so the folder's mode guards the socket. */
export function adminSocketPath(dataDir: string): string {
  return join(dataDir, 'admin', 'admin.sock');
}

/** Why the admin socket is not served or not used: one line an operator can act on. */
export class AdminSocketError extends Error {}

/** Another process answers on the socket already (in a cluster: the first worker). */
export class AdminSocketTaken extends AdminSocketError {}

/**
 * Listens on the admin socket of `dataDir`: makes its folder private, removes a socket file left by
 * a server that died (only when nothing answers on it), listens, and gives the socket mode 0600.
 * Throws AdminSocketTaken when another process serves it, AdminSocketError when the folder cannot be
 * made private or the path is too long.
 */
export async function listenOnAdminSocket(server: Server, dataDir: string): Promise<string> {
  const path = adminSocketPath(dataDir);
  const dir = join(path, '..');
  await preparePrivateDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const folder = await lstat(dir);
  if (!folder.isDirectory()) throw new AdminSocketError(`${dir} is not a folder`);
  if (folder.uid !== process.getuid?.()) throw new AdminSocketError(`${dir} belongs to another user (uid ${folder.uid})`);
  // Made private before the socket appears in it: nobody else may reach the socket, even for an instant.
  if (folder.mode & 0o077) await chmod(dir, 0o700);
  await removeStaleSocket(path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EINVAL' ? new AdminSocketError(`${path} is too long for a Unix socket (at most 107 bytes): use a shorter DATA_DIR`) : err;
  });
  await chmod(path, 0o600);
  return path;
}

/** Removes the socket file at `path` when nothing answers on it; throws when something does. */
async function removeStaleSocket(path: string): Promise<void> {
  const existing = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!existing) return;
  if (!existing.isSocket()) throw new AdminSocketError(`${path} exists and is not a socket: remove it`);
  const socket = await connectTo(path);
  if (socket) {
    socket.destroy();
    throw new AdminSocketTaken(`another process serves ${path}: another Tollgate on this DATA_DIR?`);
  }
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

/**
 * Errors that mean nothing can be listening at the path: no file, a stale one, a path that is no
 * socket, or one too long for a socket (EINVAL), where no server could have listened either.
 */
const NOTHING_LISTENS = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTDIR', 'ENOTSOCK', 'EINVAL', 'ENAMETOOLONG']);

/** A connection to the socket at `path`, or undefined when nothing listens there. */
function connectTo(path: string): Promise<Socket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException) => (NOTHING_LISTENS.has(err.code ?? '') ? resolve(undefined) : reject(err));
    socket.once('error', onError);
  });
}

/**
 * The CLI's side: the socket of a server running on `dataDir`, or undefined when none answers. A
 * socket in a folder that other users could write to is refused: anyone could have put it there,
 * and the CLI sends it passwords and receives secrets.
 */
export async function findAdminSocket(dataDir: string): Promise<string | undefined> {
  const path = adminSocketPath(dataDir);
  const socket = await connectTo(path).catch((err: NodeJS.ErrnoException) => {
    throw new AdminSocketError(`cannot connect to the server's admin socket ${path} (${err.code ?? err.message}): run this as the user the server runs as`);
  });
  if (!socket) return undefined;
  socket.destroy();
  const folder = await lstat(join(path, '..'));
  const uid = process.getuid?.();
  if (folder.mode & 0o022 || (folder.uid !== uid && folder.uid !== 0 && uid !== 0)) {
    throw new AdminSocketError(`refusing the admin socket ${path}: its folder is writable by others or belongs to another user`);
  }
  return path;
}
