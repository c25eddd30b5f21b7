// The admin CLI's building blocks: a command family (`client`, `user`, `audit`) is a table of
// commands, each parsing its arguments before the database opens and then doing its work.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { z } from 'zod';
import type { ClientService } from '../clients/service.js';
import type { Database } from '../db/database.js';
import type { UserService } from '../users/service.js';
import { HttpError } from '../http/errors.js';
import { parseInput } from '../http/validate.js';

/** A wrong command line or invalid input: exit status 64 (EX_USAGE). */
export class UsageError extends Error {}

export interface CliContext {
  db: Database;
  clients: ClientService;
  users: UserService;
}

/** Where the CLI writes and reads: the process's streams, or a caller's strings. */
export interface CliIo {
  stdout(text: string): Promise<void>;
  stderr(text: string): Promise<void>;
  /** Everything piped to standard input; undefined when it is a terminal. */
  stdin(): string | undefined;
}

/** The work a command does once its input is valid; what it returns is printed as JSON (nothing for undefined). */
export type Action = (ctx: CliContext) => Promise<unknown>;

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  /** What follows `<family> <command>` in the usage text. */
  usage: string;
  /** Positional argument names, all required. */
  args?: string[];
  options?: Options;
  prepare(args: string[], values: Values, io: CliIo): Action;
}

export interface CommandFamily {
  name: string;
  title: string;
  commands: Record<string, Command>;
}

export function familyUsage(family: CommandFamily): string {
  return Object.entries(family.commands)
    .map(([name, command]) => `  ${family.name} ${name}${command.usage ? ` ${command.usage}` : ''}`)
    .join('\n');
}

/** Parses `<command> [args] [--options]` for one family; throws UsageError on a wrong command line. */
export function prepareCommand(family: CommandFamily, argv: string[], io: CliIo): Action {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : Object.hasOwn(family.commands, name) ? family.commands[name] : undefined;
  if (!command) {
    throw new UsageError(`${name === undefined ? 'missing' : `unknown`} ${family.name} command${name ? ` "${name}"` : ''}; one of: ${Object.keys(family.commands).join(', ')}`);
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: command.options ?? {}, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's message goes on to explain `--` at length; its first sentence is the useful part,
    // plus the one hint a user needs for a value that starts with a dash.
    const message = String((err as Error).message);
    const dashHint = /argument is ambiguous/.test(message) ? ' (for a value that starts with "-", write --option=value)' : '';
    throw new UsageError(`${family.name} ${name}: ${message.split(/\.?\n|\. /)[0]}${dashHint}`);
  }
  const expected = command.args ?? [];
  if (parsed.positionals.length !== expected.length) {
    throw new UsageError(`usage: ${family.name} ${name} ${command.usage}`);
  }
  return command.prepare(parsed.positionals, parsed.values as Values, io);
}

/**
 * Validates with the admin API's own schema, so the CLI accepts exactly what the API does; the
 * message names the API field and the option it came from.
 */
export function validate<S extends z.ZodType>(schema: S, input: Record<string, unknown>, flags: Record<string, string>): z.output<S> {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  try {
    return parseInput(schema, defined);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    const flag = err.field ? flags[err.field.split('.')[0]!] : undefined;
    throw new UsageError(`${err.description}${flag ? ` (${flag})` : ''}`);
  }
}

/** An integer option as a number; anything else is passed on for the schema to reject by name. */
export function integer(value: string | boolean | undefined): unknown {
  return typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
}

/** `true` / `false` as booleans; anything else is passed on for the schema to reject by name. */
export function boolean(value: string | boolean | undefined): unknown {
  return value === 'true' ? true : value === 'false' ? false : value;
}
