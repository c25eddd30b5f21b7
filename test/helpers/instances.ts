// Several real Tollgate instances sharing one fresh PostgreSQL database, as a deployment behind a
// load balancer would: each with its own pool and its own invalidation listener. They share one
// DATA_DIR (and so its key-encryption key), or with `separateDataDirs` each has its own, the
// first holding the run's keys.json to import (they then need KEYS_ENCRYPTION_KEY in `env`). With
// `databaseUrls` each instance uses the URL given for it (an existing database, left in place); with
// `invalidationClock` their invalidation buses measure freshness on the test's clock.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { sha256 } from '../../src/crypto/hash.js';
import { createLogger } from '../../src/http/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { clientCredentialsToken, postForm, type RegisteredClient } from './oauth.js';
import { testConfig, writeTestKeys } from './prepared.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, createPostgresDatabase, freePort } from './tollgate.js';
import { waitFor } from './wait-for.js';

export interface Instances {
  servers: RunningServer[];
  logs: string[];
  close(): Promise<void>;
}

export async function startInstances(
  count: number,
  env: Record<string, string> = {},
  { separateDataDirs = false, databaseUrls, invalidationClock }: { separateDataDirs?: boolean; databaseUrls?: string[]; invalidationClock?: () => number } = {},
): Promise<Instances> {
  const database = databaseUrls ? undefined : await createPostgresDatabase();
  const dataDirs = [await mkdtemp(join(tmpdir(), 'tollgate-instances-'))];
  await writeTestKeys(dataDirs[0]!);
  if (separateDataDirs) for (let i = 1; i < count; i += 1) dataDirs.push(await mkdtemp(join(tmpdir(), 'tollgate-instances-')));
  const servers: RunningServer[] = [];
  const logs: string[] = [];
  // One after the other: the first creates the admin client.
  for (let i = 0; i < count; i += 1) {
    const port = await freePort();
    const config = testConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: 'http://127.0.0.1', // shared: any instance accepts the others' tokens
      DATABASE_URL: databaseUrls?.[i] ?? database!.url,
      DATA_DIR: dataDirs[i] ?? dataDirs[0]!,
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
    servers.push(await startServer(config, createLogger('info', sink), { invalidationClock }));
  }
  return {
    servers,
    logs,
    async close() {
      await Promise.all(servers.map((server) => server.close()));
      await database?.drop();
      for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Issues a client_credentials token to `client` on `issuer`, then has `caller` introspect it on
 * `server` (active each time) until `server`'s token cache holds it: an instance caches only while
 * its invalidation channel has proven itself within the last second, which a loaded machine delays.
 */
export async function issueAndCache(issuer: string, server: RunningServer, client: RegisteredClient, caller: RegisteredClient): Promise<string> {
  const issued = await clientCredentialsToken(issuer, client.client_id, client.client_secret);
  expect(issued.status).toBe(200);
  const token = issued.body.access_token as string;
  await waitFor(
    async () => {
      expect((await postForm(server.url, '/introspect', { token }, [caller.client_id, caller.client_secret])).body.active).toBe(true);
      return server.app.caches.tokens.get(sha256(token)) !== undefined;
    },
    'the token to be cached',
    { timeoutMs: 10_000, intervalMs: 20 },
  );
  return token;
}
