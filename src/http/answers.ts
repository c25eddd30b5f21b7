// What Tollgate answers, built in one place for whoever answers: the token endpoints' own
// handlers, the request pipeline, Koa's error renderer, the provider's hooks and the raw socket
// of a request Node could not parse. An error becomes RFC 6749 §5.2 JSON here and nowhere else,
// always with `Cache-Control: no-store`; the CORS headers and the Basic challenge are the ones
// oidc-provider gives, so an answer does not tell which of the two gave it.
import type { Context } from 'koa';
import { z } from 'zod';

/** An answer: JSON unless its headers say otherwise, with the headers the endpoint's answers carry. */
export interface Answer {
  status?: number;
  body: string;
  headers?: Readonly<Record<string, string>>;
}

/** What an error answer is made of (an HttpError, src/http/errors.ts). */
export interface AnswerableError {
  readonly status: number;
  readonly error: string;
  readonly description: string;
  readonly field?: string;
  readonly scope?: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Every error answer: it is about one request. */
const NO_STORE = 'no-store';

/**
 * oidc-provider's CORS headers on an answer to a request without Origin (its lib/shared/cors.js):
 * the token endpoint exposes DPoP-Nonce too, as DPoP nonces are configured.
 */
export const TOKEN_CORS = corsHeaders('DPoP-Nonce,WWW-Authenticate');
export const INTROSPECTION_CORS = corsHeaders('WWW-Authenticate');
export const REVOCATION_CORS = corsHeaders('WWW-Authenticate');

function corsHeaders(exposed: string): Readonly<Record<string, string>> {
  return Object.freeze({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': exposed, Vary: 'Origin' });
}

/** A WWW-Authenticate challenge (RFC 9110 §11.6.1): the scheme and its parameters, quoted; undefined ones left out. */
export function challenge(scheme: string, params: Readonly<Record<string, string | undefined>>): string {
  const quoted = Object.entries(params)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}="${value}"`);
  return `${scheme} ${quoted.join(', ')}`;
}

/** The RFC 6749 §5.2 body of an error: `error`, `error_description` and its details. */
export const errorBodySchema = z.strictObject({
  error: z.string(),
  error_description: z.string(),
  field: z.string().optional().describe('For invalid input: the offending field.'),
  scope: z.string().optional().describe('For invalid_scope: the scope refused.'),
});

export function errorBody({ error, description, field, scope }: AnswerableError): z.output<typeof errorBodySchema> {
  return { error, error_description: description, ...(scope !== undefined ? { scope } : {}), ...(field ? { field } : {}) };
}

/** An error's answer, with the headers of the endpoint that gives it (`headers`) under the error's own. */
export function errorAnswer(err: AnswerableError, headers?: Readonly<Record<string, string>>): Answer & { status: number } {
  return { status: err.status, body: JSON.stringify(errorBody(err)), headers: { ...headers, ...err.headers, 'Cache-Control': NO_STORE } };
}

/** An error's answer in a Koa context, replacing whatever answer (and challenge) it held. */
export function answerErrorInKoa(ctx: Context, err: AnswerableError): void {
  ctx.status = err.status;
  ctx.remove('WWW-Authenticate');
  ctx.set({ ...err.headers, 'Cache-Control': NO_STORE });
  ctx.type = 'application/json';
  // An object, not text: the provider's hooks after this one read its `error`.
  ctx.body = errorBody(err);
}
