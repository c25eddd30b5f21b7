// What a test file leaves behind (folders, servers, databases, mounts), undone after its last test,
// newest first.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export interface FileCleanups {
  /** Undoes `cleanup` after the file's last test. */
  push(cleanup: () => Promise<unknown>): void;
  /** A new temporary folder, removed after the file's last test. */
  tempDir(): Promise<string>;
}

/** Call once at a test file's top level; `prefix` names its temporary folders. */
export function fileCleanups(prefix: string): FileCleanups {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const push = (cleanup: () => Promise<unknown>) => void cleanups.push(cleanup);
  return {
    push,
    async tempDir() {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      push(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
  };
}
