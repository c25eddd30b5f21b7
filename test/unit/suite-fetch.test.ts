// The suite's fetch (test/setup/http-client.ts) opens a connection per request, so no test can send a
// request on a keep-alive connection its server is closing.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';

const server = createServer((req, res) => res.end(`${req.socket.remotePort}`));
let url: string;
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

it('fetch asks the server to close the connection after its answer, and never reuses one', async () => {
  const first = await fetch(url);
  expect(first.headers.get('connection')).toBe('close');
  const ports = [await first.text(), await (await fetch(url)).text()];
  expect(ports[0]).not.toBe(ports[1]);
});
