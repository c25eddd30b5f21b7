// SIGTERM under load, against the real entry point (node --import tsx src/main.ts) in a child process: it
// finishes what is in flight, writes every audit event, closes the database and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { clientCredentialsToken, registerClient } from '../helpers/oauth.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, createPostgresDatabase, freePort, usingPostgres } from '../helpers/tollgate.js';
import { seedDataDir, writeTestKeys } from '../helpers/prepared.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('SIGTERM', () => {
  // A real process, which is slow to start on a busy machine; on a migrated database (the embedded one
  // seeded in DATA_DIR), with the run's keys: what it proves is how it stops.
  it('under load: exits 0 and every answered token has its audit event', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-shutdown-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    await writeTestKeys(dataDir);
    const postgres = usingPostgres ? await createPostgresDatabase() : undefined;
    if (postgres) cleanups.push(() => postgres.drop());
    else await seedDataDir(dataDir);

    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      ADMIN_CLIENT_ID,
      ADMIN_CLIENT_SECRET,
      // A long flush interval: what is answered just before SIGTERM is still queued when it comes.
      AUDIT_FLUSH_INTERVAL_MS: '60000',
      RATE_LIMIT_ENABLED: 'false',
      LOG_LEVEL: 'info',
    };
    delete env.DATABASE_URL;
    if (postgres) env.DATABASE_URL = postgres.url;
    // node itself, not npx or the tsx CLI: the signal must reach Tollgate, not a wrapper process.
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`Tollgate exited:\n${output}`);
      return output.includes('Tollgate is listening');
    }, 'Tollgate to start', { timeoutMs: 60_000 });

    const client = await registerClient(base);
    let answered = 0;
    let stop = false;
    // Eight clients keep asking for tokens until the server stops taking connections.
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        try {
          const response = await clientCredentialsToken(base, client.client_id, client.client_secret);
          expect(response.status).toBe(200);
          answered++;
        } catch (err) {
          if ((err as Error).name === 'AssertionError') throw err;
          return; // refused: the server is closing
        }
      }
    });
    await waitFor(() => answered >= 40, 'forty tokens', { intervalMs: 10 });
    child.kill('SIGTERM');
    const code = await exited;
    stop = true;
    await Promise.all(load);

    expect(code, output).toBe(0);
    expect(output).toContain('shutting down');
    expect(answered).toBeGreaterThanOrEqual(40);

    const db = await openDatabase(postgres ? { url: postgres.url } : { dataDir });
    try {
      const recorded = await db.prisma.auditEvent.count({ where: { type: 'token.issued', clientId: client.client_id } });
      expect(recorded).toBe(answered);
    } finally {
      await db.close();
    }
  });
});
