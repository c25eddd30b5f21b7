// A TCP proxy a test can stop and start, to take a dependency (PostgreSQL, Redis) away from a
// running Tollgate and give it back. Stopping refuses new connections and cuts the open ones.
// `watchUpstream` makes, per connection, a function that sees what the target sends, after it is
// passed on (a test may stop the proxy at a moment of the protocol).
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number, watchUpstream?: () => (chunk: Buffer) => void): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
      if (watchUpstream) upstream.on('data', watchUpstream());
    });
    await new Promise<void>((resolve, reject) => server!.once('error', reject).listen(port, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  };
  await listen();

  const proxy: TcpProxy = {
    get port() {
      return port;
    },
    async stop() {
      const closing = new Promise<void>((resolve) => server?.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closing;
      server = undefined;
    },
    async start() {
      if (!server) await listen();
    },
    async close() {
      if (server) await proxy.stop();
    },
  };
  return proxy;
}
