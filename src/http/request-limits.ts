import type { Context, Next } from 'koa';
import { HttpError } from './errors.js';

export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Refuses request bodies over 16 KiB before anything reads them, and bodies of unknown length,
 * which could otherwise be streamed at us without end.
 */
export async function limitRequestBody(ctx: Context, next: Next): Promise<void> {
  if (ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'OPTIONS') return next();
  const length = ctx.get('content-length');
  if (!length) {
    if (ctx.get('transfer-encoding')) throw new HttpError(411, 'invalid_request', 'Content-Length is required');
    return next();
  }
  if (!/^\d{1,9}$/.test(length)) throw new HttpError(400, 'invalid_request', 'invalid Content-Length');
  if (Number(length) > MAX_BODY_BYTES) throw new HttpError(413, 'invalid_request', `request body exceeds ${MAX_BODY_BYTES} bytes`);
  return next();
}
