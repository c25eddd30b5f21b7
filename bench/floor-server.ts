// The floor: bare node:http answering each request with a fixed answer once it has read the
// request's body. No parsing, no authentication, no storage, no log line: what any Node server pays
// to receive such a request and send such an answer, and so the least any implementation on Node
// could cost. The bench sets each path's answer (status, headers, body) to a copy of Tollgate's
// answer to the same request (PUT /__floor), so the floor sends the same bytes back.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3200);

interface FloorAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Until the bench says otherwise: an active introspection's answer, as long as Tollgate's. */
const INTROSPECTION = JSON.stringify({
  active: true,
  client_id: 'OfVQSfsaBUJmTaUgvNwCmE6Krf0Gue5aPMwY8yLtQ9Y',
  exp: 1_800_000_000,
  iat: 1_799_999_700,
  iss: 'http://127.0.0.1:3200',
  jti: 'cUAzXOp4hN5vUWHBx1lmAYPyY7UEjT-sFcTBvtwwc0R',
  scope: 'read',
  token_type: 'Bearer',
  aud: 'http://127.0.0.1:3200',
});
const DEFAULT: FloorAnswer = {
  status: 200,
  headers: {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'WWW-Authenticate',
    Vary: 'Origin',
  },
  body: INTROSPECTION,
};
const answers = new Map<string, FloorAnswer>();

createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.method === 'PUT' && req.url === '/__floor') {
      const { path, ...answer } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FloorAnswer & { path: string };
      answers.set(path, answer);
      res.writeHead(204).end();
      return;
    }
    const { status, headers, body } = answers.get(req.url ?? '/') ?? DEFAULT;
    // A new request id per answer, as Tollgate makes one.
    res.writeHead(status, { ...headers, 'X-Request-Id': randomUUID(), 'Content-Length': String(Buffer.byteLength(body)) });
    res.end(body);
  });
}).listen(port, '127.0.0.1', () => process.stdout.write(`floor listening on http://127.0.0.1:${port}\n`));
process.once('SIGTERM', () => process.exit(0));
