// The floor: bare node:http answering every POST with a fixed JSON body, once it has read the
// request's body, with the headers Tollgate's answers carry. No parsing, no authentication, no
// storage, no log line: what any Node server pays to receive such a request and send such an
// answer, and so the most any implementation on Node could gain over the baseline.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 3200);
// An active introspection's answer, as long as Tollgate's.
const BODY = JSON.stringify({
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
const HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Content-Length': String(Buffer.byteLength(BODY)),
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'WWW-Authenticate',
  Vary: 'Origin',
};

createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { ...HEADERS, 'X-Request-Id': randomUUID() });
    res.end(BODY);
  });
}).listen(port, '127.0.0.1', () => process.stdout.write(`floor listening on http://127.0.0.1:${port}\n`));
process.once('SIGTERM', () => process.exit(0));
