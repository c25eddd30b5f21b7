// schema.prisma and prisma/migrations must describe the same database, and migrating is idempotent.
import { readdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { describe, expect, it } from 'vitest';
import { diffSchema } from '../../src/db/migrations.js';
import { MIGRATIONS_DIR } from '../../src/db/schema-engine.js';
import { pgliteDump } from '../helpers/prepared.js';
import { openTestDatabase } from '../helpers/tollgate.js';

/** diffSchema replays the migrations on a throwaway in-memory database, as `npm run db:diff` does. */
async function diffAgainstShadow(from: 'migrations' | 'empty'): Promise<string> {
  const shadow = new PGlite({ loadDataDir: await pgliteDump('empty') });
  try {
    return await diffSchema(new PrismaPGlite(shadow), from);
  } finally {
    await shadow.close();
  }
}

describe('migrations', () => {
  it('build exactly what schema.prisma describes (run `npm run db:diff -- <name>` if not)', async () => {
    expect(await diffAgainstShadow('migrations')).toBe('');
  });

  it('are seen to differ from an empty database, so the check above can fail', async () => {
    expect(await diffAgainstShadow('empty')).toMatch(/CREATE TABLE "oidc_payloads"/);
  });

  it('apply once: a second run applies nothing', async () => {
    const { db, dispose } = await openTestDatabase({ empty: true });
    try {
      const names = (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
      expect(await db.migrate()).toEqual(names);
      expect(await db.migrate()).toEqual([]);
      await expect(db.checkReady()).resolves.toBeUndefined();
    } finally {
      await dispose();
    }
  });
});
