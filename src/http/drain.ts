import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Graceful close for an HTTP server: returns `drain(timeoutMs)`, which stops accepting connections,
 * closes idle keep-alive connections, answers every request still running with `Connection: close`
 * so its connection ends after it, and after `timeoutMs` cuts whatever is left. Resolves with the
 * number of requests that were cut.
 */
export function drainOnClose(server: Server): (timeoutMs: number) => Promise<number> {
  const active = new Set<ServerResponse>();
  let closing = false;
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (closing && !res.headersSent) res.setHeader('Connection', 'close');
    active.add(res);
    res.once('close', () => active.delete(res));
  });

  return async function drain(timeoutMs: number): Promise<number> {
    closing = true;
    for (const res of active) if (!res.headersSent) res.setHeader('Connection', 'close');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs).unref();
    });
    // A connection that finished its request while closing may linger idle: sweep them as they appear.
    const sweep = setInterval(() => server.closeIdleConnections(), 100).unref();
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
