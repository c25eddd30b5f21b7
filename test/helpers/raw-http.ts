// HTTP/1.1 over a bare socket, for the requests fetch and node:http refuse to send (malformed
// request lines, control characters, oversized or duplicated headers): one request per connection;
// and kept-alive connections whose every event a test sees (an answer, a clean end, a reset).
import { connect } from 'node:net';

export interface RawReply {
  status: number;
  /** The status line and header lines as received. */
  headers: string;
  body: string;
}

/**
 * Sends `request` as raw bytes to the server at `base` and reads the first answer; rejects when
 * no answer comes within `timeoutMs` or the connection closes before one does. The socket is not
 * half-closed after the request: Node's server drops the requests of a client that does that.
 */
export function rawRequest(base: string, request: string | Buffer, timeoutMs = 10_000): Promise<RawReply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let received = '';
    let answer: RawReply | undefined;
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      answer = parse(received, false);
      if (answer) socket.destroy();
    });
    // A server may close as soon as it has answered, before reading all a request sent: what
    // it answered counts.
    socket.on('error', (err) => (received ? socket.destroy() : reject(err)));
    socket.on('close', () => {
      if (!received) return reject(new Error('connection closed without an answer'));
      resolve(answer ?? parse(received, true)!);
    });
  });
}

/** What became of a request sent on a kept-alive connection: its answer, or the connection's clean end (FIN) with no byte of one. */
export type KeptAliveOutcome = { answer: RawReply } | { endedWithoutAnswer: true };

export interface KeptAliveConnection {
  /**
   * Sends `request` and resolves with its outcome; when the server has already ended the connection,
   * resolves with that and sends nothing. Rejects on a reset or any other socket error, or after `timeoutMs`.
   */
  send(request: string, timeoutMs?: number): Promise<KeptAliveOutcome>;
  /** The socket's error, if it had one (a reset after its end, say): what a test asserts is absent. */
  readonly failure: Error | undefined;
  close(): void;
}

/** A connection to `base`, once open, for requests sent one after another (each after the previous answer). */
export async function keptAliveConnection(base: string): Promise<KeptAliveConnection> {
  const { hostname, port } = new URL(base);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  let ended = false;
  let failure: Error | undefined;
  let pending: { resolve(outcome: KeptAliveOutcome): void; reject(err: Error): void } | undefined;
  const settle = (outcome: KeptAliveOutcome | Error) => {
    const waiting = pending;
    pending = undefined;
    received = '';
    if (outcome instanceof Error) waiting?.reject(outcome);
    else waiting?.resolve(outcome);
  };
  socket.on('data', (chunk) => {
    received += chunk.toString('latin1');
    const answer = parse(received, false);
    if (answer) settle({ answer });
  });
  socket.on('end', () => {
    ended = true;
    settle(received ? new Error(`connection ended in the middle of an answer: ${received}`) : { endedWithoutAnswer: true });
  });
  socket.on('error', (err) => {
    failure = err;
    settle(err);
  });
  return {
    send(request, timeoutMs = 30_000) {
      if (failure) return Promise.reject(failure);
      if (ended) return Promise.resolve({ endedWithoutAnswer: true });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => settle(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        pending = {
          resolve: (outcome) => (clearTimeout(timer), resolve(outcome)),
          reject: (err) => (clearTimeout(timer), reject(err)),
        };
        socket.write(request);
      });
    },
    get failure() {
      return failure;
    },
    close: () => socket.destroy(),
  };
}

/** The first answer in `received` once it is whole (or, when the connection has `closed`, whatever came). */
function parse(received: string, closed: boolean): RawReply | undefined {
  const split = received.indexOf('\r\n\r\n');
  if (split === -1) return closed ? { status: Number(received.split(' ')[1]), headers: received, body: '' } : undefined;
  const head = received.slice(0, split);
  const rest = received.slice(split + 4);
  const status = Number(head.split(' ')[1]);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const body = unchunk(rest);
    return body !== undefined || closed ? { status, headers: head, body: body ?? rest } : undefined;
  }
  // Answers to whatever followed the request on the connection come after the first one's body.
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  if (length !== undefined && rest.length >= Number(length)) return { status, headers: head, body: rest.slice(0, Number(length)) };
  return closed ? { status, headers: head, body: rest } : undefined;
}

/** A chunked body's data, once its last chunk has come. */
function unchunk(body: string): string | undefined {
  let data = '';
  for (let at = 0; ; ) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(body.slice(at, lineEnd), 16);
    if (size === 0) return data;
    if (!(size > 0) || body.length < lineEnd + 2 + size + 2) return undefined;
    data += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}
