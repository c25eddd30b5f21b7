import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { randomSecret } from '../crypto/random.js';
import type { ClientService } from '../clients/service.js';
import type { Config } from '../config/config.js';
import { ADMIN_SCOPE } from './auth.js';

/**
 * Makes sure the admin client exists. Returns the secret when this call generated it, so the
 * caller can show it once; a configured secret is never echoed.
 */
export async function ensureAdminClient(config: Config, clients: ClientService): Promise<{ created: boolean; generatedSecret?: string }> {
  const secret = config.adminClientSecret ?? randomSecret();
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

/** Where the first start hands the generated admin secret over: a terminal, or a file beside the keys. */
export const ADMIN_SECRET_FILE = 'admin-client-secret.txt';

/** Where the generated secret may be shown: the process's stderr, unless a test gives another. */
export type Terminal = Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean };

/**
 * Hands a generated admin secret to the operator, once, and never through the log or stdout (which
 * carries the JSON log): on a terminal it is printed to stderr; otherwise (a container, a service
 * manager) it is written to a 0600 file in DATA_DIR that the log names. If that file cannot be
 * written, stderr it is: a secret nobody saw would leave the admin client unusable.
 */
export async function handOverAdminSecret(config: Config, secret: string, terminal: Terminal, log: Logger): Promise<void> {
  const text =
    `Created admin client "${config.adminClientId}". Its secret is shown only now:\n\n  ${secret}\n\n` +
    `Get an admin token: curl -u '${config.adminClientId}:<secret>' -d grant_type=client_credentials -d scope=admin ${config.issuer}/token\n\n` +
    firstAdministrator(config);
  if (!terminal.isTTY) {
    const file = join(config.dataDir, ADMIN_SECRET_FILE);
    try {
      // A file left by an earlier database holds a stale secret: replaced, created anew with mode 0600.
      await rm(file, { force: true });
      await writeFile(file, text, { mode: 0o600, flag: 'wx' });
      log.warn(
        { clientId: config.adminClientId, file },
        `created admin client; its secret is in ${file} (mode 0600): keep it in your secret store, then delete the file`,
      );
      return;
    } catch (err) {
      log.warn({ err, clientId: config.adminClientId, file }, 'created admin client; its secret could not be written to a file, so it goes to stderr');
    }
  }
  terminal.write(`\n${text}\n`);
}

/** How to make the first user who may sign in to the web console: nobody has the admin role at first. */
export function firstAdministrator(config: Pick<Config, 'issuer'>): string {
  return (
    `Web console: ${config.issuer}/console. Give a user the admin role to sign in there, with the token above:\n` +
    `  curl -H "Authorization: Bearer <token>" -H 'Content-Type: application/json' -d '{"username":"<name>","password":"<password>","admin":true}' ${config.issuer}/admin/users\n` +
    `or, while the server is stopped (or on PostgreSQL): printf %s '<password>' | npm run admin -- user create <name> --admin --password-stdin\n`
  );
}
