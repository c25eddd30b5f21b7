import type { z } from 'zod';
import { invalidRequest } from './errors.js';

/** The largest request body any endpoint reads (the pipeline refuses longer ones, and so do the body parsers). */
export const MAX_BODY_BYTES = 16 * 1024;

/** C0 controls and DEL: no name, address, identifier or password needs one, and PostgreSQL refuses NUL. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * Parses input with a zod schema; the first problem becomes a 400 naming the offending field. A
 * string anywhere in the input that holds a control character is refused first, whatever the schema.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const controlled = pathToControlCharacter(input);
  if (controlled !== undefined) throw invalidRequest(`${controlled || 'input'}: must not contain control characters`, controlled || undefined);
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(',') : undefined);
  throw invalidRequest(field ? `${field}: ${issue.message}` : issue.message, field);
}

/** The dotted path of the first string (value or key) in `value` holding a control character. */
function pathToControlCharacter(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return CONTROL_CHARACTER.test(value) ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (CONTROL_CHARACTER.test(key)) return path || 'input';
    const found = pathToControlCharacter(item, at);
    if (found !== undefined) return found;
  }
  return undefined;
}
