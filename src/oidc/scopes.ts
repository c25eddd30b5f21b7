import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { metadataOf } from './client-metadata.js';

/**
 * A client gets only scopes on its allow-list; when it names none it gets its default scopes.
 * Deny by default: a client with an empty allow-list can only get scope-less tokens.
 */
export function enforceClientScopes(ctx: KoaContextWithOIDC): void {
  const client = ctx.oidc.client!;
  const metadata = metadataOf(client);
  const allowed = new Set((metadata.allowed_scope ?? '').split(' ').filter(Boolean));
  const requested = ctx.oidc.params!.scope;
  if (requested === undefined) {
    ctx.oidc.params!.scope = metadata.default_scope || undefined;
    return;
  }
  if (typeof requested !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(requested)) {
    throw new errors.InvalidScope('scope must be space-separated RFC 6749 scope tokens', String(requested).slice(0, 64));
  }
  for (const scope of requested.split(' ')) {
    if (!allowed.has(scope)) throw new errors.InvalidScope('requested scope is not allowed for this client', scope);
  }
}

/** Scopes of the protocol itself, not of Tollgate's resource: no client lists them in its allow-list. */
export const PROTOCOL_SCOPES = new Set(['openid', 'offline_access']);

/**
 * The allow-list rule at the authorization endpoint: a client may ask the user only for scopes on
 * its allow-list (plus `openid` and `offline_access`); when it names none it asks for its default
 * scopes. Errors go back to the client's (already verified) redirect_uri as invalid_scope.
 */
export function enforceAuthorizationScopes(ctx: KoaContextWithOIDC): void {
  const { params, client } = ctx.oidc;
  const metadata = metadataOf(client!);
  const allowed = new Set((metadata.allowed_scope ?? '').split(' ').filter(Boolean));
  if (params!.scope === undefined) {
    params!.scope = metadata.default_scope || undefined;
    return;
  }
  for (const scope of String(params!.scope).split(' ')) {
    if (!allowed.has(scope) && !PROTOCOL_SCOPES.has(scope)) throw new errors.InvalidScope('requested scope is not allowed for this client', scope);
  }
}
