// The admin CLI as a function of its command line, its streams and its configuration: requests to
// the admin API, made through the admin socket of a server running on DATA_DIR or, with none
// running, through the same router in this process against the database. Output is JSON shaped
// like the API's responses; errors are one line on stderr with exit status 64 (bad command line or
// input) or 1 (anything else). src/admin/cli.ts runs it as `npm run admin`.
import { connect } from 'node:net';
import { ConfigError, type Config } from '../config/config.js';
import { DatabaseInUseError } from '../db/lock.js';
import { HttpError, httpErrorOf } from '../http/errors.js';
import { WrongKeyEncryptionKeyError } from '../keys/encryption.js';
import { adminApiOver } from './api-client.js';
import { auditCommands } from './cli-audit.js';
import { clientCommands } from './cli-clients.js';
import { keyCommands } from './cli-keys.js';
import { resourceServerCommands } from './cli-resource-servers.js';
import { userCommands } from './cli-users.js';
import { commandHelp, familyUsage, flagFor, isHelp, prepareCommand, UsageError, type Action, type CliIo, type CommandFamily } from './cli-kit.js';
import { AdminSocketError, findAdminSocket } from './socket.js';

const FAMILIES: CommandFamily[] = [clientCommands, userCommands, resourceServerCommands, auditCommands, keyCommands];

const USAGE = `Usage: npm run admin -- <command> [options]

Works beside a running server: when a Tollgate server on the same DATA_DIR (default ./data)
answers on its admin socket (DATA_DIR/admin/admin.sock), the command goes to its admin API
there. With none running, it opens the database itself: PostgreSQL when DATABASE_URL is set,
otherwise the embedded database in DATA_DIR, applying pending migrations first. Either way it
prints the same JSON, shaped like the admin API's responses; a client secret is shown only by
create and rotate-secret, a generated user password only by user create.

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
  let output: unknown;
  try {
    // The command line is checked in full before anything is reached.
    const action = prepareCommand(family, rest, io);
    output = await withAdminApi(loadConfig(), io, action);
  } catch (err) {
    throw namingTheFlag(err, family, rest);
  }
  if (output !== undefined) await io.stdout(`${JSON.stringify(output, null, 2)}\n`);
  return 0;
}

/** Runs `action` against a running server's admin API, or against the database when none runs. */
async function withAdminApi(config: Config, io: CliIo, action: Action): Promise<unknown> {
  const socket = await findAdminSocket(config.dataDir);
  if (socket) return action(adminApiOver(() => connect(socket)));
  // Loaded only now: the database driver and the services take longer to load than a request takes.
  const { openDirectApi } = await import('./direct-api.js');
  const direct = await openDirectApi(config);
  try {
    if (direct.applied.length) await io.stderr(`tollgate-admin: applied database migrations: ${direct.applied.join(', ')}\n`);
    return await action(direct.api);
  } finally {
    await direct.close();
  }
}

/** An error about an API field, saying which option of the command sets it (`--redirect-uri`), as typed. */
function namingTheFlag(err: unknown, family: CommandFamily, argv: string[]): unknown {
  const known = httpErrorOf(err);
  if (!known?.field) return err;
  const flag = flagFor(family, argv, known.field);
  return flag ? new HttpError(known.status, known.error, `${known.description} (${flag})`, { field: known.field }) : err;
}

/** One line for stderr and the exit status; a stack trace never reaches the terminal. */
function describeError(err: unknown, databaseUrl: string | undefined): [string, number] {
  if (err instanceof UsageError) return [err.message, EX_USAGE];
  const known = httpErrorOf(err);
  if (known) return [known.description, known.status === 400 ? EX_USAGE : 1];
  if (err instanceof ConfigError || err instanceof DatabaseInUseError || err instanceof AdminSocketError) return [err.message, 1];
  if (err instanceof WrongKeyEncryptionKeyError)
    return ['the keys in the database do not decrypt with this key-encryption key: run with the KEYS_ENCRYPTION_KEY the servers use', 1];
  const lines = String((err as Error)?.message ?? err)
    .split('\n')
    .filter((line) => line.trim());
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
