// The admin CLI's building blocks: a command family (`client`, `user`, `resource-server`, `audit`, `keys`) is a
// table of commands, each parsing its arguments before anything is reached and then making its requests to
// the admin API (src/admin/api-client.ts).
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { parseInput } from '../http/validate.js';
import type { AdminApi } from './api-client.js';

/** A wrong command line or invalid input: exit status 64 (EX_USAGE). */
export class UsageError extends Error {}

/** Where the CLI writes and reads: the process's streams, or a caller's strings. */
export interface CliIo {
  stdout(text: string): Promise<void>;
  stderr(text: string): Promise<void>;
  /** Everything piped to standard input; undefined when it is a terminal. */
  stdin(): string | undefined;
}

/** The work a command does once its input is valid; what it returns is printed as JSON (nothing for undefined). */
export type Action = (api: AdminApi) => Promise<unknown>;

/** One option of a command: how it parses, what its value looks like, and one line saying what it does. */
export interface Flag {
  type: 'string' | 'boolean';
  /** Repeatable: every occurrence is kept, in order. */
  multiple?: boolean;
  /** The value's placeholder in the usage text (string options). */
  value?: string;
  /** Shown without brackets in the usage text; the command checks it. */
  required?: boolean;
  help: string;
}

export type Options = Record<string, Flag>;
export type Value = string | boolean | string[] | undefined;
export type Values = Record<string, Value>;

export interface Command {
  /** One line saying what the command does. */
  description: string;
  /** Positional argument names, all required. */
  args?: string[];
  options?: Options;
  prepare(args: string[], values: Values, io: CliIo): Action;
}

export interface CommandFamily {
  name: string;
  title: string;
  commands: Record<string, Command>;
  /**
   * Where each admin API field comes from on the command line: the options (`--scope`) or arguments
   * (`USERNAME`) that set it, so an error about the field names what the user typed.
   */
  flags: Record<string, string[]>;
}

const HELP = ['help', '--help', '-h'];

/** `<prefix><family> <command> ARGS [--option VALUE]…`, wrapped at 100 columns under the command's arguments. */
function commandUsage(prefix: string, family: CommandFamily, name: string, command: Command): string {
  const head = `${prefix}${family.name} ${name}`;
  const words = [
    ...(command.args ?? []),
    ...Object.entries(command.options ?? {}).map(([flag, option]) => {
      const text = `--${flag}${option.value ? ` ${option.value}` : ''}`;
      return `${option.required ? text : `[${text}]`}${option.multiple ? '…' : ''}`;
    }),
  ];
  const lines = [head];
  for (const word of words) {
    if (lines.at(-1)!.length + word.length + 1 > 100) lines.push(' '.repeat(head.length));
    lines[lines.length - 1] += ` ${word}`;
  }
  return lines.join('\n');
}

export function familyUsage(family: CommandFamily): string {
  return Object.entries(family.commands)
    .map(([name, command]) => commandUsage('  ', family, name, command))
    .join('\n');
}

/**
 * The help of one command when its command line asks for it (`--help` or `-h` anywhere before a `--`),
 * else undefined: its usage, what it does, and one line per option.
 */
export function commandHelp(family: CommandFamily, argv: string[]): string | undefined {
  const [name, ...rest] = argv;
  const end = rest.indexOf('--');
  if (!(end === -1 ? rest : rest.slice(0, end)).some((arg) => arg === '--help' || arg === '-h')) return undefined;
  const command = findCommand(family, name);
  const options = Object.entries(command.options ?? {}).map(([flag, option]) => [
    `--${flag}${option.value ? ` ${option.value}` : ''}`,
    `${option.help}${option.multiple ? ' (repeatable)' : ''}`,
  ]);
  const width = Math.max(0, ...options.map(([left]) => left!.length));
  return [
    commandUsage('Usage: npm run admin -- ', family, name!, command),
    '',
    command.description,
    ...(options.length ? ['', 'Options:', ...options.map(([left, help]) => `  ${left!.padEnd(width)}  ${help}`)] : []),
    '',
  ].join('\n');
}

/** Whether `word` (a family's first argument) asks for the family's list of commands. */
export const isHelp = (word: string | undefined) => word !== undefined && HELP.includes(word);

function findCommand(family: CommandFamily, name: string | undefined): Command {
  const command = name === undefined ? undefined : Object.hasOwn(family.commands, name) ? family.commands[name] : undefined;
  if (!command) {
    throw new UsageError(
      `${name === undefined ? 'missing' : `unknown`} ${family.name} command${name ? ` "${name}"` : ''}; one of: ${Object.keys(family.commands).join(', ')}`,
    );
  }
  return command;
}

/** Parses `<command> [args] [--options]` for one family; throws UsageError on a wrong command line. */
export function prepareCommand(family: CommandFamily, argv: string[], io: CliIo): Action {
  const [name, ...rest] = argv;
  const command = findCommand(family, name);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options = Object.fromEntries(Object.entries(command.options ?? {}).map(([flag, { type, multiple = false }]) => [flag, { type, multiple }]));
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (err) {
    // Node's message goes on to explain `--` at length; its first sentence is the useful part,
    // plus the one hint a user needs for a value that starts with a dash.
    const message = String((err as Error).message);
    const dashHint = /argument is ambiguous/.test(message) ? ' (for a value that starts with "-", write --option=value)' : '';
    throw new UsageError(`${family.name} ${name}: ${message.split(/\.?\n|\. /)[0]}${dashHint}`);
  }
  const expected = command.args ?? [];
  if (parsed.positionals.length !== expected.length) {
    throw new UsageError(`usage: ${family.name} ${name} ${expected.join(' ')}; \`${family.name} ${name} --help\` for its options`);
  }
  return command.prepare(parsed.positionals, parsed.values as Values, io);
}

/**
 * Checks input with the admin API's own schema before anything is reached, so the CLI accepts
 * exactly what the API does and a bad value costs no connection; returns the input to send (its
 * given fields), unchanged. An error names the API field; runCli adds the option (flagFor).
 */
export function validate(schema: z.ZodType, input: Record<string, unknown>): Record<string, unknown> {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  parseInput(schema, defined);
  return defined;
}

/**
 * The option or argument of the command `argv` names that sets the API field `field` (e.g.
 * `redirect_uris.0`), as the user types it; undefined when the command has none.
 */
export function flagFor(family: CommandFamily, argv: string[], field: string): string | undefined {
  const command = Object.hasOwn(family.commands, argv[0] ?? '') ? family.commands[argv[0]!]! : undefined;
  if (!command) return undefined;
  const spellings = family.flags[field.split('.')[0]!] ?? [];
  return spellings.find((flag) => (flag.startsWith('--') ? Object.hasOwn(command.options ?? {}, flag.slice(2)) : (command.args ?? []).includes(flag)));
}

/** An integer option as a number; anything else is passed on for the schema to reject by name. */
export function integer(value: Value): unknown {
  return typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
}

/** The options of a paged list: how many per page (at most `max`, `fallback` by default) and where to go on. */
export function pageOptions(max: number, fallback: number, cursor = 'ID'): Options {
  return {
    limit: { type: 'string', value: 'N', help: `how many per page, 1-${max} (default ${fallback})` },
    cursor: { type: 'string', value: cursor, help: 'the next_cursor of the previous page' },
  };
}

/** `true` / `false` as booleans; anything else is passed on for the schema to reject by name. */
export function boolean(value: Value): unknown {
  return value === 'true' ? true : value === 'false' ? false : value;
}
