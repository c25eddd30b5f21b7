// docs/configuration.md's table of variables and the whole .env.example, written from the schema's
// documentation (config.ts: each variable's `doc` entry) and its defaults.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GROUPS, doc, variables, type VariableDoc } from './config.js';

export const CONFIGURATION_MD = 'docs/configuration.md';
export const ENV_EXAMPLE = '.env.example';

const BEGIN = '<!-- BEGIN VARIABLES: generated from src/config/config.ts by `npm run config:docs`; edit the descriptions there -->';
const END = '<!-- END VARIABLES -->';
const ENV_HEADER = `# Tollgate configuration: every variable Tollgate reads, each at its default. Generated from
# src/config/config.ts by \`npm run config:docs\`; edit the descriptions there.
# \`npm start\`, \`npm run admin\` and \`npm run db:migrate\` load ./.env when it exists
# (cp .env.example .env); variables already set in the environment win over the file.
# An empty value counts as unset. A bad value stops start-up with one line naming the variable.
# A commented-out NAME=value line is a setting without a default; its value is an example.
`;
const COMMENT_WIDTH = 100;

export interface DocumentedVariable extends VariableDoc {
  name: string;
  /** The default as it would be written in the environment; undefined without one. */
  default: string | undefined;
}

/** Every variable with its documentation, in the schema's order; throws for one without. */
export function documentedVariables(): DocumentedVariable[] {
  return Object.entries(variables).map(([name, variable]) => {
    const meta = doc.get(variable);
    if (!meta) throw new Error(`${name} has no documentation: add .register(doc, { group, description }) in src/config/config.ts`);
    const parsed = variable.safeParse(undefined);
    const value = parsed.success ? parsed.data : undefined;
    if (meta.secret && value !== undefined) throw new Error(`${name} is secret and must not have a default`);
    return { name, ...meta, default: value === undefined ? undefined : String(value) };
  });
}

function byGroup(): [group: keyof typeof GROUPS, note: string, variables: DocumentedVariable[]][] {
  const all = documentedVariables();
  return Object.entries(GROUPS).map(([group, note]) => [group as keyof typeof GROUPS, note, all.filter((v) => v.group === group)]);
}

/** A lifetime in seconds as days or hours, when it is a whole number of them: "14 d", "8 h". */
function humanSeconds(variable: DocumentedVariable): string | undefined {
  if (!/_TTL$|_SECONDS$/.test(variable.name) || variable.default === undefined) return undefined;
  const seconds = Number(variable.default);
  if (seconds >= 86400 && seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  return undefined;
}

/** Markdown as plain text for .env.example: no code spans; links point into docs/. */
function plain(markdown: string): string {
  return markdown
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, (_, text: string, href: string) => `${text} (${/^[a-z]+:|^\//.test(href) ? href : `docs/${href}`})`)
    .replaceAll('`', '');
}

function comment(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '#' && line.length + 1 + word.length > COMMENT_WIDTH) {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  return [...lines, line];
}

/** The variables table of docs/configuration.md, between its markers. */
export function variablesTable(): string {
  const rows = ['| Variable | Default | Meaning |', '|---|---|---|'];
  const cell = (markdown: string) => markdown.replaceAll('|', '\\|');
  for (const [group, note, members] of byGroup()) {
    rows.push(note ? `| **${group}** | | ${cell(note)} |` : `| **${group}** | | |`);
    for (const v of members) {
      const human = humanSeconds(v);
      const fallback = v.default === undefined ? (v.unset ?? 'unset') : `\`${v.default}\`${human ? ` (${human})` : ''}`;
      rows.push(`| \`${v.name}\` | ${cell(fallback)} | ${cell(v.description)} |`);
    }
  }
  return `${BEGIN}\n${rows.join('\n')}\n${END}`;
}

/** docs/configuration.md with its variables table replaced; the prose around it stays. */
export function configurationMd(current: string): string {
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${CONFIGURATION_MD} has lost its generated-section markers: ${BEGIN} … ${END}`);
  return current.slice(0, begin) + variablesTable() + current.slice(end + END.length);
}

/** The whole .env.example. */
export function envExample(): string {
  const out = [ENV_HEADER.trimEnd()];
  for (const [group, note, members] of byGroup()) {
    out.push('', `# --- ${group} ---`);
    if (note) out.push(...comment(plain(note)), '');
    for (const v of members) {
      const human = humanSeconds(v);
      const defaults = v.unset ? ` Default: ${plain(v.unset)}.` : human ? ` Default: ${human}.` : '';
      out.push(...comment(plain(v.description) + defaults));
      out.push(v.default === undefined ? `# ${v.name}=${v.example ?? ''}` : `${v.name}=${v.default}`);
    }
  }
  return `${out.join('\n')}\n`;
}

async function readOrEmpty(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** The generated files under `root` (the repository) that differ from what the schema generates. */
async function staleFiles(root: string): Promise<{ file: string; generated: string }[]> {
  const markdown = await readOrEmpty(join(root, CONFIGURATION_MD));
  const env = await readOrEmpty(join(root, ENV_EXAMPLE));
  return [
    { file: CONFIGURATION_MD, current: markdown, generated: configurationMd(markdown) },
    { file: ENV_EXAMPLE, current: env, generated: envExample() },
  ].filter((f) => f.current !== f.generated);
}

/** The names of the generated files under `root` that are not current. */
export async function checkGeneratedFiles(root: string): Promise<string[]> {
  return (await staleFiles(root)).map((f) => f.file);
}

/** Writes the generated files under `root` that are not current; returns their names. */
export async function writeGeneratedFiles(root: string): Promise<string[]> {
  const stale = await staleFiles(root);
  for (const f of stale) await writeFile(join(root, f.file), f.generated);
  return stale.map((f) => f.file);
}
