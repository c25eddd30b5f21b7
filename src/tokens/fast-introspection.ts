// POST /introspect without oidc-provider for the requests that matter: a resource server that
// authenticated before, asking about a token it (or another caller) asked about before. Anything
// else — first contact, a failure, an unusual request — goes to the provider untouched, so every
// answer, error or not, is the provider's own (RFC 7662), and revocations still end tokens at once:
// they evict from the cache before the revocation is answered (see src/cache/caches.ts).
import { parse as parseQuery } from 'node:querystring';
import type { Context, Next } from 'koa';
import type { Caches } from '../cache/caches.js';
import { sha256, type SecretVerifier } from '../clients/secrets.js';
import type { ClientService } from '../clients/service.js';
import { acceptedSecretHashes } from '../clients/views.js';
import type { Database } from '../db/database.js';
import { HttpError } from '../http/errors.js';
import { MAX_BODY_BYTES } from '../http/request-limits.js';
import { liveRowExists } from '../oidc/token-rows.js';

const INACTIVE = '{"active":false}';
const INTROSPECTABLE = ['AccessToken', 'ClientCredentials', 'RefreshToken'];
/** Parameters the provider reads for client authentication: their presence means it must decide. */
const AUTH_PARAMS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];
const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post']);

export interface FastIntrospectionDeps {
  path: string;
  db: Database;
  caches: Caches;
  clients: ClientService;
  secrets: SecretVerifier;
}

export function fastIntrospection({ path, db, caches, clients, secrets }: FastIntrospectionDeps) {
  /** A token row that could be valid exists: only then is the provider asked. */
  const mayExist = (hash: string) => liveRowExists(db, INTROSPECTABLE, hash);

  return async function fastIntrospection(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== path || ctx.method !== 'POST' || !caches.usable) return next();
    if (!ctx.is('application/x-www-form-urlencoded') || (ctx.request.charset && ctx.request.charset.toLowerCase() !== 'utf-8')) return next();
    if (ctx.get('oauth-client-attestation') || ctx.get('oauth-client-attestation-pop')) return next();

    // The caller, from cache only: no argon2 and no error path here.
    const credentials = basicCredentials(ctx.get('authorization'));
    if (!credentials) return next();
    const caller = await clients.findActive(credentials.id);
    if (!caller || !SECRET_METHODS.has(caller.tokenEndpointAuthMethod)) return next();
    if (!secrets.isRemembered(caller.id, credentials.secret, acceptedSecretHashes(caller))) return next();

    const raw = await readBody(ctx);
    // Past this point the provider can still take over: it reads the body from here.
    (ctx.req as { body?: Buffer }).body = raw;
    const params = parseQuery(raw.toString('utf8'));
    const { token, token_type_hint: hint } = params;
    if (typeof token !== 'string' || !token || token.includes('.') || Array.isArray(hint)) return next();
    if (AUTH_PARAMS.some((name) => name in params)) return next();

    const hash = sha256(token);
    const cached = caches.tokens.get(hash);
    if (cached) {
      // The provider's allowedPolicy: a client sees its own tokens, a resource server any.
      return answer(ctx, cached.clientId === caller.id || caller.resourceServer ? cached.body : INACTIVE);
    }
    if (!(await mayExist(hash))) return answer(ctx, INACTIVE);

    // Known to the database: the provider answers, and an active access token's answer is kept.
    const generation = caches.tokens.generation;
    await next();
    const body = ctx.status === 200 ? (ctx.body as Record<string, unknown> | undefined) : undefined;
    if (body?.active !== true || typeof body.token_type !== 'string' || typeof body.exp !== 'number' || typeof body.client_id !== 'string') return;
    if (body.client_id !== caller.id && !caller.resourceServer) return;
    // Only a token whose grant is known can be evicted when that grant is revoked.
    const found = introspected(ctx);
    if (!found) return;
    caches.tokens.set(hash, { body: JSON.stringify(body), clientId: body.client_id, grantId: found.grantId, expiresAt: body.exp * 1000 }, generation);
  };
}

function answer(ctx: Context, body: string): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'application/json';
  ctx.body = body;
}

/** The access token the provider's introspection action found (it records it on ctx.oidc). */
function introspected(ctx: Context): { grantId?: string } | undefined {
  type Found = { grantId?: string } | undefined;
  const entities = (ctx as { oidc?: { entities?: { AccessToken?: Found; ClientCredentials?: Found } } }).oidc?.entities;
  return entities?.AccessToken ?? entities?.ClientCredentials;
}

/**
 * client_secret_basic credentials, decoded as oidc-provider decodes them (RFC 6749 §2.3.1); anything
 * it would refuse or treat differently is left to it.
 */
function basicCredentials(header: string): { id: string; secret: string } | undefined {
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

/** The whole body; request-limits.ts has already refused anything over 16 KiB or of unknown length. */
async function readBody(ctx: Context): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of ctx.req) {
      received += (chunk as Buffer).length;
      if (received > MAX_BODY_BYTES) throw new Error('body over the limit');
      chunks.push(chunk as Buffer);
    }
  } catch {
    throw new HttpError(400, 'invalid_request', 'failed to parse the request body');
  }
  return Buffer.concat(chunks);
}
