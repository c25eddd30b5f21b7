// `resource-server routes get|set ID [--file rules.json|rules.yaml]`: the admin API's
// /admin/resource-servers/:id/routes, with the same schema; a rules file is JSON or YAML.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { routesDocument } from '../resource-servers/route-rules.js';
import { segment } from './api-client.js';
import { UsageError, validate, type CliIo, type Command, type Values } from './cli-kit.js';

const MAX_RULES_FILE_BYTES = 1024 * 1024;

export const gatewayRoutesCommand: Command = {
  description: 'Prints a resource server\'s gateway route rules (get), or replaces them with a file\'s (set): {"routes": [...]} in JSON or YAML.',
  args: ['get|set', 'ID'],
  options: { file: { type: 'string', value: 'FILE', help: 'set: the rules file, .json or .yaml; - reads standard input' } },
  prepare([verb, id], values, io) {
    if (verb === 'get') {
      if (values.file !== undefined) throw new UsageError('resource-server routes get: --file is for set');
      return async (api) => ({ id, ...((await api({ method: 'GET', path: `/resource-servers/${segment(id!)}/routes` })) as object) });
    }
    if (verb !== 'set') throw new UsageError(`resource-server routes: "${verb}" is neither get nor set`);
    const body = validate(routesDocument, readRules(values, io));
    return async (api) => ({ id, ...((await api({ method: 'PUT', path: `/resource-servers/${segment(id!)}/routes`, body })) as object) });
  },
};

/** The file's document, parsed (JSON is YAML too), before any request is made. */
function readRules(values: Values, io: CliIo): Record<string, unknown> {
  const file = values.file;
  if (typeof file !== 'string') throw new UsageError('resource-server routes set: --file FILE is required');
  let text: string | undefined;
  try {
    text = file === '-' ? io.stdin() : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (text === undefined) throw new UsageError('resource-server routes set: --file - needs the rules piped to standard input');
  if (Buffer.byteLength(text) > MAX_RULES_FILE_BYTES) throw new UsageError(`${file} is larger than 1 MiB`);
  let document: unknown;
  try {
    document = parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON or YAML: ${String((err as Error).message).split('\n')[0]}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new UsageError(`${file} must hold {"routes": [...]}`);
  return document as Record<string, unknown>;
}
