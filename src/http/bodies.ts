// Reading request bodies into values: every JSON or form body Tollgate parses passes here (the
// token endpoints' handlers through the pipeline, the admin API, the sign-in pages and the console
// through Koa). Past the size limit, a body nested or repeated beyond what any request needs is
// refused with a 400 naming the limit, from its raw text and without recursion, before anything
// walks the parsed value: a walk over 5,000 nested arrays overflows the stack.
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware, Next } from 'koa';
import { invalidRequest } from './errors.js';
import { MAX_BODY_BYTES } from './validate.js';

/** The deepest JSON nesting accepted: the admin API's inputs nest 4 levels at most (a route rule's method list). */
export const MAX_JSON_DEPTH = 32;

/** The most parameters (repeats included) in one form: an OAuth request has about a dozen, the console's longest form fewer than 20. */
export const MAX_FORM_PARAMETERS = 100;

/** Refuses JSON text nested deeper than MAX_JSON_DEPTH; malformed text is left to the parser. */
export function checkJsonDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) throw invalidRequest(`JSON bodies are nested at most ${MAX_JSON_DEPTH} levels deep`);
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/** Refuses a form (application/x-www-form-urlencoded text) of more than MAX_FORM_PARAMETERS parameters. */
export function checkFormParameters(text: string): void {
  let parameters = 0;
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('&', start);
    const stop = end === -1 ? text.length : end;
    if (stop > start && ++parameters > MAX_FORM_PARAMETERS) throw invalidRequest(`forms have at most ${MAX_FORM_PARAMETERS} parameters`);
    if (end === -1) break;
    start = end + 1;
  }
}

/** Parses JSON bodies (UTF-8, within the size limit) into ctx.request.body. */
export function jsonBodies(): Middleware {
  return checked(bodyParser({ enableTypes: ['json'], jsonLimit: MAX_BODY_BYTES, encoding: 'utf-8' }), checkJsonDepth);
}

/** Parses form bodies (UTF-8, within the size limit) into ctx.request.body. */
export function formBodies(): Middleware {
  return checked(bodyParser({ enableTypes: ['form'], formLimit: MAX_BODY_BYTES, encoding: 'utf-8' }), checkFormParameters);
}

function checked(parse: Middleware, check: (text: string) => void): Middleware {
  return async (ctx: Context, next: Next) => {
    await parse(ctx, async () => {});
    const raw: unknown = ctx.request.rawBody;
    if (typeof raw === 'string') check(raw);
    await next();
  };
}
