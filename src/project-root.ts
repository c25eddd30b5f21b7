// The files Tollgate reads at run time (prisma/, the pages' stylesheet and icon) live beside package.json. This module
// runs from src/ under tsx and vitest and from dist/src/ once compiled, so the root is found by
// walking up to package.json rather than by a fixed number of "../".
import { existsSync } from 'node:fs';

function findRoot(from: URL): URL {
  for (let dir = new URL('./', from); ; ) {
    if (existsSync(new URL('package.json', dir))) return dir;
    const parent = new URL('../', dir);
    if (parent.href === dir.href) throw new Error(`no package.json above ${from.pathname}`);
    dir = parent;
  }
}

/** The project's root directory (with a trailing slash, so `new URL('prisma/', PROJECT_ROOT)` works). */
export const PROJECT_ROOT = findRoot(new URL(import.meta.url));
