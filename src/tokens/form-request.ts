// What the fast lane (src/tokens/lane.ts) and cacheIntrospections read from a request before they decide whether
// they can answer it themselves, decoded exactly as oidc-provider decodes it. Whatever they leave
// to the provider, it reads from the same place: the parsed body stays on ctx.req.body.
import type { IncomingMessage } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import type { Context } from 'koa';
import type { SecretVerifier } from '../clients/secrets.js';
import type { ClientService } from '../clients/service.js';
import { acceptedSecretHashes } from '../clients/views.js';
import type { Client } from '../db/database.js';
import { HttpError } from '../http/errors.js';
import { MAX_BODY_BYTES } from '../http/request-limits.js';

const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post']);

/** A POST form in UTF-8, without client attestation (which only the provider understands). */
export function isPlainForm(ctx: Context, path: string): boolean {
  if (ctx.path !== path || ctx.method !== 'POST') return false;
  if (!ctx.is('application/x-www-form-urlencoded') || (ctx.request.charset && ctx.request.charset.toLowerCase() !== 'utf-8')) return false;
  return !ctx.get('oauth-client-attestation') && !ctx.get('oauth-client-attestation-pop');
}

/**
 * The active client of the request's client_secret_basic credentials, when its secret was
 * verified before and is still accepted: from memory only, with no argon2 and no error path.
 */
export async function rememberedCaller(ctx: Context, clients: ClientService, secrets: SecretVerifier): Promise<Client | undefined> {
  const credentials = basicCredentials(ctx.get('authorization'));
  if (!credentials) return undefined;
  const caller = await clients.findActive(credentials.id);
  return caller && isRemembered(caller, credentials.secret, secrets) ? caller : undefined;
}

/** Whether `secret` is one `caller` authenticated with before, by a method the fast lane knows. */
export function isRemembered(caller: Client, secret: string, secrets: SecretVerifier): boolean {
  return SECRET_METHODS.has(caller.tokenEndpointAuthMethod) && secrets.isRemembered(caller.id, secret, acceptedSecretHashes(caller));
}

/**
 * client_secret_basic credentials, decoded as oidc-provider decodes them (RFC 6749 §2.3.1); anything
 * it would refuse or treat differently is left to it.
 */
export function basicCredentials(header: string): { id: string; secret: string } | undefined {
  if (!header.startsWith('Basic ')) return undefined;
  const encoded = header.slice(6);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1 || colon === decoded.length - 1) return undefined;
  try {
    const id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, '%20'));
    const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, '%20'));
    return /^[\x20-\x7e]+$/.test(id) && /^[\x20-\x7e]+$/.test(secret) ? { id, secret } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The form's parameters. The raw body is left on ctx.req.body, where the provider reads it if the
 * request is passed on; request-limits.ts has already refused anything over 16 KiB or of unknown length.
 */
export async function readForm(ctx: Context): Promise<ParsedUrlQuery> {
  // Read already by the fast lane, which passed the request on.
  const read = (ctx.req as { body?: unknown }).body;
  const raw = Buffer.isBuffer(read) ? read : await readBody(ctx.req);
  (ctx.req as { body?: Buffer }).body = raw;
  return parseQuery(raw.toString('utf8'));
}

/**
 * A request's whole body, with events rather than an async iterator (cheaper, and this is on every
 * fast-path request). Its length is bounded by the Content-Length checked before, which Node's
 * parser enforces; the limit here is for a body of any other kind.
 */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const fail = () => reject(new HttpError(400, 'invalid_request', 'failed to parse the request body'));
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_BODY_BYTES) return void (req.destroy(), fail());
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', fail);
  });
}
