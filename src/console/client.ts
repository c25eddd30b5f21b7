// The web console signs administrators in through Tollgate's own authorization code flow with
// PKCE, as any public client would: this is that client, made (or moved to the current ISSUER) at
// every start.
import { CONSOLE_CLIENT_ID, type ClientService } from '../clients/service.js';
import type { Config } from '../config/config.js';

export { CONSOLE_CLIENT_ID };

export const CONSOLE_SCOPE = 'console';

/** Where the console lives, below the issuer's path. */
export const CONSOLE_PATH = '/console';

/** Where the authorization endpoint sends the browser back with a code. */
export const consoleCallback = (config: Pick<Config, 'issuer'>) => `${config.issuer}${CONSOLE_PATH}/callback`;

/** Makes sure the console's client exists with the callback under the current issuer. */
export function ensureConsoleClient(config: Config, clients: ClientService): Promise<boolean> {
  return clients.ensure(
    {
      client_id: CONSOLE_CLIENT_ID,
      client_name: 'Tollgate console',
      grant_types: ['authorization_code'],
      // A scope of its own, meaningful nowhere else: an authorization must grant something.
      scope: [CONSOLE_SCOPE],
      redirect_uris: [consoleCallback(config)],
      token_endpoint_auth_method: 'none',
      resource_server: false,
    },
    undefined,
  );
}
