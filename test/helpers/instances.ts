// Several real Tollgate instances sharing one fresh PostgreSQL database (and one keys.json), as a
// deployment behind a load balancer would: each with its own pool and its own invalidation listener.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/http/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { testConfig, writeTestKeys } from './prepared.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, createPostgresDatabase, freePort } from './tollgate.js';

export interface Instances {
  servers: RunningServer[];
  logs: string[];
  close(): Promise<void>;
}

export async function startInstances(count: number, env: Record<string, string> = {}): Promise<Instances> {
  const database = await createPostgresDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'tollgate-instances-'));
  await writeTestKeys(dataDir);
  const servers: RunningServer[] = [];
  const logs: string[] = [];
  // One after the other: the first creates the admin client.
  for (let i = 0; i < count; i += 1) {
    const port = await freePort();
    const config = testConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: 'http://127.0.0.1', // shared: any instance accepts the others' tokens
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      ADMIN_CLIENT_ID,
      ADMIN_CLIENT_SECRET,
      RATE_LIMIT_ENABLED: 'false',
      ...env,
    });
    logs.push('');
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logs[i] += chunk.toString();
        done();
      },
    });
    servers.push(await startServer(config, createLogger('info', sink)));
  }
  return {
    servers,
    logs,
    async close() {
      await Promise.all(servers.map((server) => server.close()));
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
