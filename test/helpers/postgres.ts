import pg from 'pg';

/** Runs statements, one after the other, on the database DATABASE_URL names (CREATE/DROP DATABASE and the like). */
export async function postgresAdmin(...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}
