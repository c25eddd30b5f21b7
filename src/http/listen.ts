import type { Server } from 'node:http';

/** Which settings chose the address, so a failure can name the one to change. */
export interface ListenSettings {
  port: number;
  host: string;
  portVariable: string;
  hostVariable: string;
}

/** Listens on `settings.host`:`settings.port`; resolves once listening, rejects with the listen error. */
export async function listen(server: Server, { port, host }: ListenSettings): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** One line an operator can act on, for an error `listen` rejected with. */
export function describeListenFailure(err: unknown, { port, host, portVariable, hostVariable }: ListenSettings): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const examples = 'such as 127.0.0.1, or 0.0.0.0 for every interface';
  switch (code) {
    case 'EADDRINUSE':
      return `port ${port} is in use (EADDRINUSE): another Tollgate? set ${portVariable}`;
    case 'EACCES':
      return `port ${port} needs privileges this process lacks (EACCES): set ${portVariable} to 1024 or above`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${hostVariable} "${host}" cannot be resolved (${code}): set ${hostVariable} to an address of this machine, ${examples}`;
    case 'EADDRNOTAVAIL':
      return `${hostVariable} ${host} is not an address of this machine (EADDRNOTAVAIL): set ${hostVariable} to one, ${examples}`;
    default:
      return `cannot listen on ${host}:${port} (${code ?? String((err as Error)?.message).split('\n')[0]}): check ${hostVariable} and ${portVariable}`;
  }
}
