// POST /token without oidc-provider's request pipeline for the request services make all day:
// client_credentials, from a client whose secret was verified before, with nothing unusual about
// it. The token is minted by the provider's own model (src/oidc/client-credentials.ts), so it is
// the token the provider would have issued. Anything else (first contact, DPoP, a resource or any
// other parameter, a scope the client may not have, client_secret_post, CORS) goes to the
// provider untouched, and every error answer stays the provider's own.
import type { Context, Next } from 'koa';
import type { Caches } from '../cache/caches.js';
import type { SecretVerifier } from '../clients/secrets.js';
import type { ClientService } from '../clients/service.js';
import type { Client } from '../db/database.js';
import type { ClientCredentialsMinter } from '../oidc/client-credentials.js';
import { recordIssuance, type ProviderOperations } from '../oidc/operations.js';
import { isPlainForm, readForm, rememberedCaller } from './form-request.js';

/** RFC 6749 §3.3 scope tokens, space-separated, as src/oidc/scopes.ts accepts them. */
const SCOPE_SYNTAX = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

export interface FastIssuanceDeps {
  path: string;
  caches: Caches;
  clients: ClientService;
  secrets: SecretVerifier;
  mint: ClientCredentialsMinter;
  operations: Pick<ProviderOperations, 'audit' | 'metrics'>;
}

export function fastIssuance({ path, caches, clients, secrets, mint, operations }: FastIssuanceDeps) {
  return async function fastIssuance(ctx: Context, next: Next): Promise<void> {
    if (!caches.usable || !isPlainForm(ctx, path) || ctx.get('dpop') || ctx.get('origin')) return next();
    const caller = await rememberedCaller(ctx, clients, secrets);
    // RFC 9449 §5.2: a client registered for DPoP-bound tokens must be refused without a proof.
    if (!caller || caller.dpopBoundAccessTokens || !caller.grantTypes.includes('client_credentials')) return next();
    // Past this point the provider can still take over: it reads the body readForm leaves.
    const params = await readForm(ctx);
    if (params.grant_type !== 'client_credentials' || !Object.keys(params).every((name) => name === 'grant_type' || name === 'scope')) return next();
    const scope = grantedScope(caller, params.scope);
    if (scope === false) return next();

    const token = await mint(caller, scope);
    if (!token) return next();
    ctx.set('Cache-Control', 'no-store');
    // The provider's token response, member for member (RFC 6749 §5.1).
    const body = { access_token: token.value, expires_in: token.expiresIn, scope: token.scope, token_type: 'Bearer' };
    ctx.body = body;
    operations.metrics.fastAnswers.inc({ path: 'issuance' });
    recordIssuance(operations, ctx, { grantType: 'client_credentials', caller: caller.id, token: token.entity, body });
  };
}

/**
 * The scope the provider would grant: the client's default scopes when none is asked for, else
 * the requested ones when all are on the client's allow-list. `false` for anything the provider
 * must answer (an error, a repeated scope or parameter).
 */
function grantedScope(client: Client, requested: string | string[] | undefined): string | undefined | false {
  if (requested === undefined) return client.defaultScopes.join(' ') || undefined;
  if (typeof requested !== 'string' || !SCOPE_SYNTAX.test(requested)) return false;
  const scopes = requested.split(' ');
  if (new Set(scopes).size !== scopes.length || !scopes.every((scope) => client.scopes.includes(scope))) return false;
  return requested;
}
