// A Redis of the test's own (Debian's redis-server, on a free port, in a temporary folder, saving
// nothing), for the tests that stop, freeze and kill it: never the machine's Redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { programAvailable } from './requirements.js';
import { freePort } from './tollgate.js';

export interface OwnRedis {
  url: string;
  /** SIGSTOP: the connections stay open, nothing is answered. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** SIGKILL, resolved once it has exited: the connections close. */
  kill(): Promise<void>;
  /** A new redis-server on the same port (empty: it saves nothing). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** redis-server's path, or undefined (with a note; an error under CI=true) when it is not installed. */
export function redisServerProgram(): string | undefined {
  return programAvailable('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']);
}

export async function startRedisServer(program: string): Promise<OwnRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-redis-'));
  const port = await freePort();
  let child: ChildProcess;
  let exited: Promise<void>;

  const run = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'];
    child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      };
      child.stdout!.on('data', read);
      child.stderr!.on('data', read);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
    });
  };
  const kill = async () => {
    child.kill('SIGKILL');
    await exited;
  };

  await run();
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    kill,
    restart: run,
    async close() {
      if (child.exitCode === null && child.signalCode === null) await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
