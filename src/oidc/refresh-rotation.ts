// One-time use of authorization codes and refresh tokens: rotation on every refresh, reuse
// detection that revokes the whole grant, race-free consumption, and the opt-in grace period.
//
// oidc-provider reads a code or refresh token, runs its checks, and consumes it at the end; on its
// own, two concurrent requests can both see the token unconsumed and both succeed, and a reused
// token is caught only when it was already marked consumed at the read. Tollgate instead:
//  1. hides the consumed mark from the token endpoint's read, so every presentation goes through
//     the provider's checks (client, PKCE, redirect_uri, DPoP binding, account) first: a thief who
//     cannot pass them cannot revoke anyone's grant either;
//  2. consumes with one conditional UPDATE (StoreAdapter.consumeOnce): exactly one request wins;
//  3. treats every other presentation (an earlier use, or a lost race) alike: inside the client's
//     grace period, once, as a retry that supersedes the first answer; otherwise as reuse, which
//     revokes the grant (every code, access and refresh token it issued) and is a security event.
// A race loser is therefore a reuse too: concurrent refreshes with one token end the grant, as the
// same requests one after the other would. Clients that may send them should use the grace period.
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Database } from '../db/database.js';
import { tokenStore } from '../tokens/store/token-store.js';
import type { MetadataHolder } from './client-metadata.js';
import { hideConsumedMark, replaceConsumption, wrapGrantType, type OneTimeToken } from './internals/index.js';
import type { SecurityEvents } from './security-events.js';

export interface RotationDeps {
  db: Database;
  events: SecurityEvents;
  /** The client's reuse grace period in seconds (0: none). */
  graceSeconds(client: MetadataHolder): number;
}

const REFRESH_REUSED = 'refresh token already used';
/** Requests whose refresh was a grace-period retry: their answer is not linked as the token's successor. */
const graceRetries = new WeakSet<object>();

export function installRotation(provider: Provider, { db, events, graceSeconds }: RotationDeps): void {
  const currentContext = () => Provider.ctx as KoaContextWithOIDC | undefined;
  const tokens = tokenStore(db);

  hideConsumedMark(provider, () => currentContext()?.oidc?.route === 'token');

  /** Ends the grant: the grant itself and every code and token it issued. */
  async function revokeGrant(ctx: KoaContextWithOIDC | undefined, grantId: string | undefined): Promise<void> {
    if (!grantId) return;
    await tokens.revokeGrant(grantId);
    // Caches (and the audit trail) learn of revocations from this event.
    if (ctx) provider.emit('grant.revoked', ctx, grantId);
  }

  function describe(ctx: KoaContextWithOIDC | undefined, token: OneTimeToken) {
    return {
      clientId: token.clientId,
      grantId: token.grantId,
      accountId: token.accountId,
      ip: ctx?.ip,
      requestId: ctx?.state?.requestId as string | undefined,
    };
  }

  replaceConsumption(provider, 'AuthorizationCode', async (code) => {
    if (await code.adapter.consumeOnce(code.jti)) return code.emit('consumed');
    const ctx = currentContext();
    await revokeGrant(ctx, code.grantId);
    events.emit({ type: 'authorization_code.reuse_detected', ...describe(ctx, code) });
    throw new errors.InvalidGrant('authorization code already consumed');
  });

  replaceConsumption(provider, 'RefreshToken', async (token) => {
    if (await token.adapter.consumeOnce(token.jti)) return token.emit('consumed');
    const ctx = currentContext();
    const grace = ctx?.oidc?.client ? graceSeconds(ctx.oidc.client) : 0;
    if (grace > 0 && (await tokens.claimGrace(token.jti, grace))) {
      graceRetries.add(ctx!);
      events.emit({ type: 'refresh_token.grace_used', ...describe(ctx, token) });
      return token.emit('consumed');
    }
    await revokeGrant(ctx, token.grantId);
    events.emit({ type: 'refresh_token.reuse_detected', ...describe(ctx, token), reason: grace > 0 ? 'used again after its grace period' : 'used again' });
    throw new errors.InvalidGrant(REFRESH_REUSED);
  });

  // With a grace period, a first rotation records the refresh token it issued, so that a retry
  // inside the window can supersede it: there is never more than one live token per family.
  wrapGrantType(provider, 'refresh_token', async (ctx, handler) => {
    await handler();
    const { RotatedRefreshToken: rotated, RefreshToken: issued, AccessToken: accessToken } = ctx.oidc.entities as Record<string, OneTimeToken | undefined>;
    const client = ctx.oidc.client;
    if (!rotated || !issued || !client || graceRetries.has(ctx) || graceSeconds(client) === 0) return;
    if (await tokens.linkSuccessor(rotated.jti, issued.jti)) return;
    // A retry of the same token won its grace claim while this request was running: this answer is
    // the superseded one, and is never handed out.
    await Promise.all([issued.destroy(), accessToken?.destroy()]);
    throw new errors.InvalidGrant('refresh token was superseded by a retry of the same request');
  });
}
