import type { z } from 'zod';
import { invalidRequest } from './errors.js';

/** Parses input with a zod schema; the first problem becomes a 400 naming the offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(',') : undefined);
  throw invalidRequest(field ? `${field}: ${issue.message}` : issue.message, field);
}
