import { generateSecret } from '../clients/secrets.js';
import type { ClientService } from '../clients/service.js';
import type { Config } from '../config/config.js';
import { ADMIN_SCOPE } from './auth.js';

/**
 * Makes sure the admin client exists. Returns the secret when this call generated it, so the
 * caller can show it once; a configured secret is never echoed.
 */
export async function ensureAdminClient(config: Config, clients: ClientService): Promise<{ created: boolean; generatedSecret?: string }> {
  const secret = config.adminClientSecret ?? generateSecret();
  const created = await clients.ensure(
    {
      client_id: config.adminClientId,
      client_name: 'Tollgate administrator',
      grant_types: ['client_credentials'],
      scope: [ADMIN_SCOPE],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      resource_server: false,
    },
    secret,
  );
  return { created, generatedSecret: created && !config.adminClientSecret ? secret : undefined };
}
