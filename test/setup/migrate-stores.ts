// Run by test/global-setup.ts in a child process, so the run's own process never loads the schema
// engine, whose timer held it open ~10 s after the last test:
//   --pglite <dir>     writes PGlite data-folder dumps to <dir>: empty.tar (a new database),
//                      migrated.tar, and in-memory.tar (migrated, without the template databases)
//   --postgres         migrates the PostgreSQL database at $MIGRATE_DATABASE_URL (not an argument:
//                      a failed command line is printed whole, credentials included)
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { openDatabase } from '../../src/db/database.js';
import { applyMigrations } from '../../src/db/migrations.js';

const { values } = parseArgs({ options: { pglite: { type: 'string' }, postgres: { type: 'boolean' } } });
if (values.pglite) await dumpPglite(values.pglite);
if (values.postgres) await migratePostgres(process.env.MIGRATE_DATABASE_URL!);
process.exit(0);

async function dumpPglite(dir: string): Promise<void> {
  const pglite = new PGlite();
  const dump = async (name: string) => writeFile(join(dir, `${name}.tar`), Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()));
  try {
    await dump('empty');
    await applyMigrations(new PrismaPGlite(pglite));
    await dump('migrated');
    await removeTemplateDatabases(pglite);
    await dump('in-memory');
  } finally {
    await pglite.close();
  }
}

/**
 * Deletes the files of template0 and template1 (their catalog rows stay): nothing an in-memory test
 * database runs uses them (it creates no database), and every test server loads a third less data.
 */
async function removeTemplateDatabases(pglite: PGlite): Promise<void> {
  const { FS, ENV } = pglite.Module;
  const removeTree = (path: string) => {
    for (const name of FS.readdir(path)) {
      if (name === '.' || name === '..') continue;
      const child = `${path}/${name}`;
      if (FS.isDir(FS.stat(child).mode)) removeTree(child);
      else FS.unlink(child);
    }
    FS.rmdir(path);
  };
  const { rows } = await pglite.query<{ oid: number }>("SELECT oid FROM pg_database WHERE datname IN ('template0', 'template1')");
  for (const { oid } of rows) removeTree(`${ENV.PGDATA}/base/${oid}`);
}

async function migratePostgres(url: string): Promise<void> {
  const db = await openDatabase({ url });
  try {
    await db.migrate();
  } finally {
    await db.close();
  }
}
