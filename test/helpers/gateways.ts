// Real gateways for the tests: nginx and Caddy run as the test's own processes, from the very
// configurations docs/gateway.md shows (docs/gateway/nginx.conf and docs/gateway/Caddyfile), with
// the documented addresses replaced by the test's ports; and an upstream that echoes the headers
// it receives.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './tollgate.js';
import { programAvailable } from './requirements.js';
import { waitFor } from './wait-for.js';

const DOCS = fileURLToPath(new URL('../../docs/gateway/', import.meta.url));

/** The addresses and key the documented configurations name, which the tests replace. */
export const DOCUMENTED = { listen: '8080', gateway: '127.0.0.1:3002', upstream: '127.0.0.1:9000', key: 'replace-with-your-GATEWAY_KEY-32-characters-or-more' };

/** The name the documented nginx server block answers to: the host its checks are about. */
export const NGINX_SERVER_NAME = 'api.example.com';

export interface RunningGateway {
  url: string;
  close(): Promise<void>;
}

export interface GatewaySetup {
  /** host:port of Tollgate's GATEWAY_PORT listener. */
  gateway: string;
  upstream: string;
  key: string;
  /** nginx: one copy of the documented server block per name (several virtual hosts on one port). */
  serverNames?: readonly string[];
}

export type GatewayKind = 'nginx' | 'caddy';

export const GATEWAY_PROGRAMS: Record<GatewayKind, readonly string[]> = {
  nginx: ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'],
  caddy: ['/usr/bin/caddy', '/usr/local/bin/caddy'],
};

/** The program's path, or undefined (with a note; an error under CI=true) when it is not installed. */
export function gatewayProgram(kind: GatewayKind): string | undefined {
  return programAvailable(kind, GATEWAY_PROGRAMS[kind]);
}

/** A documented configuration with the test's addresses. */
export async function configuration(file: 'nginx.conf' | 'Caddyfile', port: number, setup: GatewaySetup): Promise<string> {
  const text = await readFile(join(DOCS, file), 'utf8');
  for (const documented of Object.values(DOCUMENTED)) if (!text.includes(documented)) throw new Error(`docs/gateway/${file} no longer names ${documented}`);
  return (
    text
      .replaceAll(`listen ${DOCUMENTED.listen};`, `listen 127.0.0.1:${port};`)
      // http:// in front: a site named by an address would get a certificate and HTTPS. The site
      // still answers every host, as documented, on the loopback address only.
      .replaceAll(`:${DOCUMENTED.listen} {`, `http://:${port} {\n\tbind 127.0.0.1`)
      .replaceAll(DOCUMENTED.gateway, setup.gateway)
      .replaceAll(DOCUMENTED.upstream, setup.upstream)
      .replaceAll(DOCUMENTED.key, setup.key)
  );
}

export async function startGateway(kind: GatewayKind, program: string, setup: GatewaySetup): Promise<RunningGateway> {
  const dir = await mkdtemp(join(tmpdir(), `tollgate-${kind}-`));
  const port = await freePort();
  let child: ChildProcess;
  if (kind === 'nginx') {
    const documented = await configuration('nginx.conf', port, setup);
    const block = documented.slice(documented.indexOf('server {'));
    const site = setup.serverNames
      ? setup.serverNames.map((name) => block.replace(`server_name ${NGINX_SERVER_NAME};`, `server_name ${name};`)).join('\n')
      : documented;
    await writeFile(
      join(dir, 'nginx.conf'),
      `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log off;\n` +
        ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `  ${name}_temp_path ${dir}/${name};\n`).join('') +
        `${site}\n}\n`,
    );
    child = spawn(program, ['-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } else {
    await writeFile(join(dir, 'Caddyfile'), await configuration('Caddyfile', port, setup));
    // Caddy keeps its state under HOME and the XDG folders: the test's folder, not the machine's.
    const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
    child = spawn(program, ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  }
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, () => child.exitCode !== null);
  } catch (err) {
    await close();
    throw new Error(`${kind} did not start: ${(err as Error).message}\n${output}`);
  }
  return { url: `http://127.0.0.1:${port}`, close };
}

async function waitForPort(port: number, gone: () => boolean): Promise<void> {
  const listening = () =>
    new Promise<boolean>((resolve) => {
      if (gone()) throw new Error('it exited');
      const socket = new Socket();
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.connect(port, '127.0.0.1');
    });
  await waitFor(listening, `a gateway on port ${port}`, { timeoutMs: 15_000 });
}

/** An API behind the gateway: answers 200 with the headers it received, as JSON. */
export async function startUpstream(): Promise<{ address: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
