// HTTP/1.1 over a bare socket, for the requests fetch and node:http refuse to send (malformed
// request lines, control characters, oversized or duplicated headers): one request per connection.
import { connect } from 'node:net';

export interface RawReply {
  status: number;
  /** The status line and header lines as received. */
  headers: string;
  body: string;
}

/**
 * Sends `request` as raw bytes to the server at `base` and reads the whole answer until the server
 * closes; rejects when no answer comes within `timeoutMs` or the connection breaks before one does.
 */
export function rawRequest(base: string, request: string | Buffer, timeoutMs = 10_000): Promise<RawReply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let received = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    // A server may close as soon as it has answered, before reading all a request sent: what
    // it answered counts.
    socket.on('error', (err) => (received ? socket.destroy() : reject(err)));
    socket.on('close', () => {
      if (!received) return reject(new Error('connection closed without an answer'));
      const split = received.indexOf('\r\n\r\n');
      const head = split === -1 ? received : received.slice(0, split);
      const body = split === -1 ? '' : received.slice(split + 4);
      resolve({ status: Number(head.split(' ')[1]), headers: head, body: /\r\ntransfer-encoding: chunked/i.test(head) ? unchunk(body) : body });
    });
  });
}

/** A chunked body's data. */
function unchunk(body: string): string {
  let data = '';
  for (let at = 0; ; ) {
    const lineEnd = body.indexOf('\r\n', at);
    const size = lineEnd === -1 ? 0 : parseInt(body.slice(at, lineEnd), 16);
    if (!size) return data;
    data += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}
