// Some suites need a machine service (Redis), a program (Chromium) or a privilege (mounting). On a developer's machine without
// it they are skipped with a note, so `npm test` works anywhere; in CI (CI=true) they must run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function available(what: string, ok: boolean, hint: string): boolean {
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`${what} is required in CI: ${hint}`);
  console.warn(`skipping: ${what} is not available (${hint})`);
  return false;
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return available(`Chromium at ${CHROMIUM_PATH}`, existsSync(CHROMIUM_PATH), 'apt-get install -y chromium, or set CHROMIUM_PATH');
}

/** A program the gateway tests run (nginx, caddy): its path, or undefined when it is not installed. */
export function programAvailable(name: string, paths: readonly string[]): string | undefined {
  const found = paths.find((path) => existsSync(path));
  return available(name, found !== undefined, `apt-get install -y ${name}`) ? found : undefined;
}

export async function redisAvailable(host = '127.0.0.1', port = 6379): Promise<boolean> {
  const listening = await new Promise<boolean>((resolve) => {
    const socket = new Socket();
    socket.setTimeout(1000);
    socket
      .once('connect', () => resolve(true))
      .once('error', () => resolve(false))
      .once('timeout', () => resolve(false));
    socket.connect(port, host);
  });
  return available(`Redis on ${host}:${port}`, listening, 'start redis-server');
}

/** Where Debian's PostgreSQL 15 server programs are (initdb, pg_ctl), for tests that run a cluster of their own. */
export const POSTGRES_BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

export function ownPostgresAvailable(): boolean {
  return available(
    `PostgreSQL's server programs in ${POSTGRES_BIN}`,
    existsSync(`${POSTGRES_BIN}/initdb`),
    'apt-get install -y postgresql-15, or set POSTGRES_BIN',
  );
}

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN): the full and read-only disk tests need it. */
export function tmpfsAvailable(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'tollgate-mount-probe-'));
  let mounted = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    mounted = true;
    execFileSync('umount', [probe], { stdio: 'ignore' });
  } catch {
    // Not allowed here: said below.
  }
  rmSync(probe, { recursive: true, force: true });
  return available('mounting a tmpfs', mounted, 'run the tests as root with CAP_SYS_ADMIN (mount -t tmpfs)');
}
