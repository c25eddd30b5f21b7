// `npm run db:migrate`: applies pending migrations (prisma/migrations) to the database Tollgate is
// configured for, PostgreSQL from DATABASE_URL or the embedded one in DATA_DIR, as start-up does.
import { ConfigError, loadConfig, loadDotEnv } from '../config/config.js';
import { configuredLocation, openDatabase } from './database.js';

let databaseUrl: string | undefined;
try {
  loadDotEnv();
  const config = loadConfig();
  databaseUrl = config.databaseUrl;
  const db = await openDatabase(configuredLocation(config));
  let applied: string[];
  try {
    applied = await db.migrate();
  } finally {
    await db.close();
  }
  // Said once the database is closed (the embedded one written to disk): done means done.
  console.log(applied.length ? `applied to ${db.location}:\n${applied.map((name) => `  ${name}`).join('\n')}` : `${db.location}: no pending migrations`);
  // Done: the schema engine leaves a timer behind that would keep the process alive for ~10 s more.
  process.exit(0);
} catch (err) {
  console.error(`tollgate db:migrate: ${oneLine(err)}`);
  process.exit(err instanceof ConfigError ? 78 : 1);
}

/** The first line of the message (Prisma puts its cause last), never the connection string. */
function oneLine(err: unknown): string {
  const lines = String((err as Error)?.message ?? err)
    .split('\n')
    .filter((line) => line.trim());
  let message = ((lines[0]?.startsWith('Invalid `') ? lines.at(-1) : lines[0]) ?? 'unexpected error').trim();
  if (databaseUrl) {
    let password = '';
    try {
      password = decodeURIComponent(new URL(databaseUrl).password);
    } catch {
      // not a parsable URL: the whole string is still redacted below
    }
    for (const secret of [databaseUrl, password]) if (secret) message = message.replaceAll(secret, '<redacted>');
  }
  return message;
}
