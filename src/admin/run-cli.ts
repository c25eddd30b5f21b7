// The admin CLI as a function of its command line, its streams and its configuration: the
// admin API's operations straight against the database, for bootstrap and scripts. Output is JSON
// shaped like the API's responses; errors are one line on stderr with exit status 64 (bad command
// line or input) or 1 (anything else). src/admin/cli.ts runs it as `npm run admin`.
import { SecretVerifier } from '../clients/secrets.js';
import { ClientService } from '../clients/service.js';
import { ConfigError, type Config } from '../config/config.js';
import { notifyPostgres } from '../cache/pg-bus.js';
import { DatabaseInUseError, openDatabase, type Client, type Database } from '../db/database.js';
import { HttpError } from '../http/errors.js';
import { WrongKeyEncryptionKeyError } from '../keys/encryption.js';
import { auditCommands, recordCliChange } from './cli-audit.js';
import { UserService } from '../users/service.js';
import { clientCommands } from './cli-clients.js';
import { userCommands } from './cli-users.js';
import { resourceServerCommands } from './cli-resource-servers.js';
import { ResourceServerService, type ResourceServerCacheHooks } from '../resource-servers/service.js';
import { keyCommands } from './cli-keys.js';
import { commandHelp, familyUsage, isHelp, prepareCommand, UsageError, type Action, type CliIo, type CommandFamily } from './cli-kit.js';

const FAMILIES: CommandFamily[] = [clientCommands, userCommands, resourceServerCommands, auditCommands, keyCommands];

const USAGE = `Usage: npm run admin -- <command> [options]

Works on Tollgate's database directly: PostgreSQL when DATABASE_URL is set, otherwise the embedded
database in DATA_DIR (default ./data), which only one process may open at a time: stop the server
first, or use the admin API. Pending migrations are applied first. Prints JSON shaped like the
admin API's responses; a client secret is shown only by create and rotate-secret, a generated
user password only by user create.

${FAMILIES.map((family) => `${family.title}:\n${familyUsage(family)}`).join('\n\n')}

  help          show this text; \`<family> help\`: one family; \`<family> <command> --help\`: one command

Exit status: 0 done, 64 bad command line or input, 1 anything else (not found, conflict, database).
`;

const EX_USAGE = 64;

export interface CliDeps {
  /** The configuration, read only once the command line has been checked. */
  loadConfig(): Config;
}

/** Runs one command; resolves to the exit status, having written everything to `io`. Never rejects. */
export async function runCli(argv: string[], io: CliIo, deps: CliDeps): Promise<number> {
  let config: Config | undefined;
  try {
    return await run(argv, io, () => (config = deps.loadConfig()));
  } catch (err) {
    const [message, status] = describeError(err, config?.databaseUrl);
    // One line, whatever an id or a database put in the message.
    const line = message.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1));
    await io.stderr(`tollgate-admin: ${line}\n`);
    return status;
  }
}

async function run(argv: string[], io: CliIo, loadConfig: () => Config): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || isHelp(name)) {
    await io.stdout(USAGE);
    return 0;
  }
  const family = FAMILIES.find((f) => f.name === name);
  if (!family) throw new UsageError(`unknown command "${name}"; run \`npm run admin -- help\``);
  if (rest[0] === undefined || isHelp(rest[0])) {
    await (rest[0] === undefined ? io.stderr : io.stdout)(`${family.title}:\n${familyUsage(family)}\n`);
    return rest[0] === undefined ? EX_USAGE : 0;
  }
  const help = commandHelp(family, rest);
  if (help) {
    await io.stdout(help);
    return 0;
  }
  // The command line is checked in full before anything touches the database.
  const action = prepareCommand(family, rest, io);
  const output = await withDatabase(loadConfig(), io, async (ctx) => {
    const result = await action(ctx);
    // A change made here is an admin action like any other: it goes to the audit trail.
    await recordCliChange(ctx.db, family.name, rest[0]!, result);
    return result;
  });
  if (output !== undefined) await io.stdout(`${JSON.stringify(output, null, 2)}\n`);
  return 0;
}

async function withDatabase(config: Config, io: CliIo, action: Action): Promise<unknown> {
  const db = await openDatabase(config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir });
  try {
    const applied = await db.migrate();
    if (applied.length) await io.stderr(`tollgate-admin: applied database migrations: ${applied.join(', ')}\n`);
    // No cache: this process verifies no secrets. Running servers on the same PostgreSQL are told of
    // every client change, or their caches would keep a deleted client and its tokens alive.
    const notify = db.kind === 'postgresql' ? { findActive: (_id: string, load: () => Promise<Client | null>) => load(), changed: (id: string) => notifyPostgres(db, [{ kind: 'client', id }]) } : undefined;
    // Likewise for the grants a user change revokes.
    const users = new UserService(db, db.kind === 'postgresql' ? { grantsRevoked: (ids) => notifyPostgres(db, ids.map((id) => ({ kind: 'grant' as const, id }))) } : {}, config.hashCost);
    // And of resource-server changes, which every server's copy of them must follow.
    const resourceServers = new ResourceServerService(db, db.kind === 'postgresql' ? notifyResourceServerChanges(db) : undefined);
    return await action({ config, db, clients: new ClientService(db, new SecretVerifier(0, config.hashCost), notify), users, resourceServers });
  } finally {
    await db.close();
  }
}

/** ResourceServerCacheHooks without a cache: every change is only announced to the running servers. */
function notifyResourceServerChanges(db: Database): ResourceServerCacheHooks {
  return {
    allResourceServers: (load) => load(),
    resourceServerChanged: (id) => notifyPostgres(db, [{ kind: 'resource_server', id }]),
    clientsChanged: (ids) => notifyPostgres(db, ids.map((id) => ({ kind: 'client' as const, id }))),
  };
}

/** One line for stderr and the exit status; a stack trace never reaches the terminal. */
function describeError(err: unknown, databaseUrl: string | undefined): [string, number] {
  if (err instanceof UsageError) return [err.message, EX_USAGE];
  if (err instanceof HttpError) return [err.description, err.status === 400 ? EX_USAGE : 1];
  if (err instanceof ConfigError || err instanceof DatabaseInUseError) return [err.message, 1];
  if (err instanceof WrongKeyEncryptionKeyError) return ['the keys in the database do not decrypt with this key-encryption key: run with the KEYS_ENCRYPTION_KEY the servers use', 1];
  const lines = String((err as Error)?.message ?? err).split('\n').filter((line) => line.trim());
  // Prisma Client puts the cause last, after a source excerpt; other errors lead with it.
  const message = (lines[0]?.startsWith('Invalid `') ? lines.at(-1) : lines[0])?.trim() || 'unexpected error';
  return [redactDatabaseUrl(message, databaseUrl), 1];
}

/** A database error may quote its connection string or password. */
function redactDatabaseUrl(message: string, url: string | undefined): string {
  if (!url) return message;
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // not a URL we can take apart: the whole of it is still redacted
  }
  return [url, password].reduce((text, secret) => (secret ? text.replaceAll(secret, '<redacted>') : text), message);
}
