// Reading the console's HTML forms into the admin API's input shapes, which the admin API's zod
// schemas then check: a form is one more way to write the same JSON, never a looser one.
import type { Context } from 'koa';
import { type HttpError, httpErrorOf, invalidRequest } from '../http/errors.js';

export type FormValues = Record<string, string | string[]>;

/** The posted form: strings, or lists of them for repeated fields; anything nested is refused. */
export function formOf(ctx: Context): FormValues {
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  const form: FormValues = {};
  for (const [name, value] of Object.entries(body)) {
    if (typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))) form[name] = value;
    else throw invalidRequest(`${name}: must be a plain form field`, name);
  }
  return form;
}

/** One text field, trimmed; undefined when absent or empty. */
export function text(form: FormValues, name: string): string | undefined {
  const value = form[name];
  const first = (Array.isArray(value) ? value[0] : value)?.trim();
  return first ? first : undefined;
}

/** A repeated field (checkboxes) as a list. */
export function list(form: FormValues, name: string): string[] {
  const value = form[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A textarea of one value per line. */
export function lines(form: FormValues, name: string): string[] {
  return (text(form, name) ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
}

/** A text field of values separated by spaces (scopes). */
export function words(form: FormValues, name: string): string[] {
  return (text(form, name) ?? '').split(/\s+/).filter(Boolean);
}

/** A number field: a whole number as a number, anything else as typed (for the schema to refuse by name); `empty` when left blank. */
export function whole<E>(form: FormValues, name: string, empty: E): number | string | E {
  const value = text(form, name);
  if (value === undefined) return empty;
  return /^\d{1,15}$/.test(value) ? Number(value) : value;
}

/** A checkbox: true when ticked. */
export const ticked = (form: FormValues, name: string) => text(form, name) !== undefined;

/** Where the console's pages link next in a paged list: the same query with another cursor. */
export function withCursor(query: Record<string, unknown>, cursor: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (typeof value === 'string' && value && name !== 'cursor') params.set(name, value);
  params.set('cursor', cursor);
  return `?${params}`;
}

/**
 * The problem of a form a person can fix by changing what they typed (bad input, a conflict), to
 * show on the form again; anything else (gone, unavailable) is thrown on, to be its own page.
 */
export function fixable(err: unknown): HttpError {
  const known = httpErrorOf(err);
  if (known && known.status < 500 && known.status !== 404) return known;
  throw err;
}
