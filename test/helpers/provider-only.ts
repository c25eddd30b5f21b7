// A second listener over a running app's own parts (the same Koa app, provider, store, caches,
// limits and metrics), with the token endpoints' own handlers left out: every request it takes is
// answered by oidc-provider, as the handlers' answers must be. Tests compare the two.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App } from '../../src/app.js';
import { requestPipeline } from '../../src/http/pipeline.js';

export interface ProviderOnly {
  /** Its base URL: the same paths as the app's, on a port of its own. */
  url: string;
  close(): Promise<void>;
}

export async function providerOnly(app: App): Promise<ProviderOnly> {
  const { deps } = app.pipeline;
  const endpoints = Object.fromEntries(Object.entries(deps.endpoints).map(([path, { handler: _handler, ...endpoint }]) => [path, endpoint]));
  const server = createServer(requestPipeline({ ...deps, endpoints }, app.koa.callback()).listener);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuerPath = new URL(deps.issuer).pathname.replace(/\/$/, '');
  return {
    url: `http://127.0.0.1:${port}${issuerPath}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
