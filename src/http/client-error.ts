import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorAnswer } from './answers.js';
import { HttpError, methodNotAllowed, STANDARD_METHODS } from './errors.js';

/** Node's parser errors that mean something a client can be told, by their code. */
const ANSWERS: Record<string, HttpError> = {
  HPE_HEADER_OVERFLOW: new HttpError(431, 'invalid_request', 'request headers too large'),
  ERR_HTTP_REQUEST_TIMEOUT: new HttpError(408, 'invalid_request', 'request timed out'),
};
const MALFORMED = new HttpError(400, 'invalid_request', 'malformed HTTP request');

/**
 * The server's `clientError` listener: a request Node's HTTP parser refuses (a bad Content-Length,
 * oversized headers, a method it does not know) gets the error model's JSON instead of an empty 400.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
  endWith(socket, ANSWERS[err.code ?? ''] ?? MALFORMED);
}

/** The server's `connect` listener: Tollgate is no proxy, so CONNECT is a method it does not serve. */
export function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  endWith(socket, methodNotAllowed(STANDARD_METHODS));
}

function endWith(socket: Duplex, err: HttpError): void {
  const { status, body, headers } = errorAnswer(err);
  const lines = Object.entries(headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n${lines}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
