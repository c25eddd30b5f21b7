import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How long a keep-alive connection closed while idle is still read from: its end reaches the client
 * within a round trip, and a client that does not close its side by then is cut.
 */
const LINGER_MS = 2000;

interface Connection {
  /** Requests received and not yet answered. */
  busy: number;
  /** socket.bytesRead when the last answer ended: more read since means a request has begun. */
  readAtRest: number;
  /** Its end is sent: what arrives now is read and dropped. */
  lingering: boolean;
}

/**
 * Serves `listener` on `server` and returns `drain(timeoutMs)`, the graceful close: it stops accepting
 * connections, answers every request in flight or arriving on an open connection with
 * `Connection: close`, closes idle keep-alive connections without a reset, and after `timeoutMs` cuts
 * whatever is left. Resolves with the number of requests that were cut.
 *
 * Node's own close destroys an idle keep-alive connection at once; a request the client sent on it just
 * before is then unread in the kernel and the client gets a TCP reset, not knowing whether it was
 * processed. Here an idle connection is closed only once input already received has been read (a request
 * found then is answered), and by a lingering close (RFC 9112 §9.6): its end is sent and it is read
 * until the client closes, so a request still on its way is dropped unprocessed and the client sees the
 * connection end cleanly, not a reset; it may send that request again elsewhere (RFC 9112 §9.3.1).
 */
export function serveDrainable(server: Server, listener: RequestListener): (timeoutMs: number) => Promise<number> {
  const active = new Set<ServerResponse>();
  const connections = new Map<Socket, Connection>();
  let closing = false;

  server.on('connection', (socket: Socket) => {
    connections.set(socket, { busy: 0, readAtRest: 0, lingering: false });
    socket.once('close', () => connections.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const connection = connections.get(req.socket);
    if (connection?.lingering) {
      // Sent before the client saw the connection end: never processed, never answered.
      req.resume();
      return;
    }
    if (closing) res.setHeader('Connection', 'close');
    active.add(res);
    if (connection) connection.busy++;
    res.once('close', () => {
      active.delete(res);
      if (!connection) return;
      connection.busy--;
      connection.readAtRest = req.socket.bytesRead;
    });
    listener(req, res);
  });

  const lingerIdle = () => {
    for (const [socket, connection] of connections) {
      if (connection.lingering || connection.busy > 0 || socket.bytesRead !== connection.readAtRest) continue;
      connection.lingering = true;
      socket.end();
      const cut = setTimeout(() => socket.destroy(), LINGER_MS).unref();
      socket.once('close', () => clearTimeout(cut));
    }
  };
  // http.Server#close calls this, and would destroy idle connections with a request unread. Two turns of
  // the event loop first: the second comes after a poll, which reads whatever had arrived by then.
  server.closeIdleConnections = () => setImmediate(() => setImmediate(lingerIdle));

  return async function drain(timeoutMs: number): Promise<number> {
    closing = true;
    for (const res of active) if (!res.headersSent) res.setHeader('Connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs).unref();
    });
    // An answer that had its headers sent before the close keeps its connection open: close it once idle.
    const sweep = setInterval(lingerIdle, 100).unref();
    const result = await Promise.race([closed, timedOut]);
    clearInterval(sweep);
    clearTimeout(timer);
    if (result !== 'timeout') return 0;
    const cut = active.size;
    server.closeAllConnections();
    await closed;
    return cut;
  };
}
