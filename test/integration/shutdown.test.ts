// SIGTERM under load, against the real entry point (node --import tsx src/main.ts) in a child process: it
// finishes what is in flight, answers or cleanly ends every kept-alive connection (no reset), writes
// every audit event, closes the database and exits 0.
import { afterAll, describe, expect, it } from 'vitest';
import { createProcessStore, spawnMain, stop as stopMain } from '../helpers/main-process.js';
import { basic, clientCredentialsToken, registerClient } from '../helpers/oauth.js';
import { keptAliveConnection, type KeptAliveOutcome } from '../helpers/raw-http.js';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, SERVER_TEST_TIMEOUT_MS, startTollgate } from '../helpers/tollgate.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('SIGTERM', () => {
  // A real process, which is slow to start on a busy machine; on a migrated database (the embedded one
  // seeded in DATA_DIR), with the run's keys: what it proves is how it stops.
  it('under load: exits 0, resets no kept-alive connection, and every answered token has its audit event', { timeout: 120_000 }, async () => {
    const store = await createProcessStore();
    cleanups.push(() => store.dispose());
    const { port, base } = store;
    // A long flush interval: what is answered just before SIGTERM is still queued when it comes.
    const main = spawnMain(store, { AUDIT_FLUSH_INTERVAL_MS: '60000' });
    cleanups.push(() => stopMain(main));
    const { child, exited } = main;
    await main.listening;

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
    // Kept-alive connections, each answered once; then the next request on each: half of them sent right
    // after SIGTERM (they reach the server before it reads the signal, or as it starts closing), half as
    // soon as the server says it is shutting down (they reach it as it closes idle connections). Each must
    // be answered, or meet the connection's clean end; a reset would leave its client not knowing whether
    // it was processed.
    const tokenRequest = `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${basic(client.client_id, client.client_secret)}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\n\r\ngrant_type=client_credentials`;
    const connections = await Promise.all(Array.from({ length: 8 }, () => keptAliveConnection(base)));
    for (const outcome of await Promise.all(connections.map((connection) => connection.send(tokenRequest)))) {
      expect('answer' in outcome && outcome.answer.status).toBe(200);
      answered++;
    }
    const early = connections.slice(0, 4);
    const late = connections.slice(4);
    // Sent from the very callback that sees the line, before this process reads anything else.
    const shuttingDown = new Promise<Promise<PromiseSettledResult<KeptAliveOutcome>[]>>((resolve) => {
      const onOutput = () => {
        if (!main.output().includes('shutting down')) return;
        child.stdout!.off('data', onOutput);
        resolve(Promise.allSettled(late.map((connection) => connection.send(tokenRequest))));
      };
      child.stdout!.on('data', onOutput);
    });
    child.kill('SIGTERM');
    const aroundClose = [...(await Promise.allSettled(early.map((connection) => connection.send(tokenRequest)))), ...(await await shuttingDown)];
    const code = await exited;
    stop = true;
    await Promise.all(load);
    for (const connection of connections) {
      expect(connection.failure, 'a kept-alive connection failed').toBeUndefined();
      connection.close();
    }

    for (const outcome of aroundClose) {
      if (outcome.status === 'rejected') throw new Error(`a request sent around SIGTERM failed: ${String(outcome.reason)}`);
      if ('endedWithoutAnswer' in outcome.value) continue;
      // Answered: with Connection: close when it arrived after the close began (or before it, if the signal was read after it).
      expect(outcome.value.answer.status).toBe(200);
      answered++;
    }

    expect(code, main.output()).toBe(0);
    expect(main.output()).toContain('shutting down');
    expect(answered).toBeGreaterThanOrEqual(40);

    const db = await store.open();
    try {
      const recorded = await db.prisma.auditEvent.count({ where: { type: 'token.issued', clientId: client.client_id } });
      expect(recorded).toBe(answered);
    } finally {
      await db.close();
    }
  });
});

describe('closing with kept-alive connections', () => {
  it('answers a request already received on an idle connection, with Connection: close, rather than resetting it', {
    timeout: SERVER_TEST_TIMEOUT_MS,
  }, async () => {
    const tollgate = await startTollgate();
    cleanups.push(async () => {
      if (tollgate.running.server.listening) await tollgate.close();
    });
    const { port } = new URL(tollgate.url);
    const body = 'grant_type=client_credentials&scope=admin';
    const tokenRequest = `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${basic(ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET)}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const connection = await keptAliveConnection(tollgate.url);
    const first = await connection.send(tokenRequest);
    expect('answer' in first && first.answer.status).toBe(200);

    // The write is in the server's receive buffer when send() returns (loopback); the close starts in
    // the same tick, before the server has read it: the connection is idle as far as HTTP can tell.
    const second = connection.send(tokenRequest);
    const closed = tollgate.close();
    const outcome = await second;
    await closed;

    expect('answer' in outcome, 'the request was not answered').toBe(true);
    if (!('answer' in outcome)) return;
    expect(outcome.answer.status).toBe(200);
    expect(outcome.answer.headers).toMatch(/\r\nconnection: close\r\n/i);
    expect(connection.failure).toBeUndefined();
    connection.close();
  });
});
