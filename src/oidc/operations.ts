// Tollgate's operational hooks into oidc-provider: the audit trail and metrics of the token,
// introspection and revocation endpoints, per-client rate limits before a secret is checked, and
// database outages answered 503 temporarily_unavailable instead of the provider's 500.
import { parse as parseQuery } from 'node:querystring';
import type { Context, Next } from 'koa';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { RequestLike } from '../audit/types.js';
import { CLIENT_ID_PATTERN } from '../clients/schema.js';
import { sha256 } from '../clients/secrets.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { DATABASE_UNAVAILABLE, isPrismaError, reportDatabaseUnavailable, RETRY_AFTER_UNAVAILABLE } from '../http/unavailable.js';
import type { Metrics } from '../metrics/metrics.js';
import { RateLimitError, type RateLimits } from '../rate-limit/limits.js';
import { basicClientId } from '../rate-limit/client-id.js';
import { beforeClientAuthentication, type LimitedEndpoint } from '../rate-limit/middleware.js';

export interface ProviderOperations {
  audit: AuditLog;
  metrics: Metrics;
  limits: RateLimits;
}

/** oidc-provider route names → Tollgate's endpoint names. */
const ENDPOINTS: Record<string, LimitedEndpoint> = { token: 'token', introspection: 'introspect', revocation: 'revoke' };

export interface TokenEntity {
  jti?: string;
  grantId?: string;
  accountId?: string;
  clientId?: string;
  kind?: string;
}

export function instrumentProvider(provider: Provider, { audit, metrics }: ProviderOperations, log: Logger): void {
  provider.use(async (ctx, next) => {
    await next();
    // ctx.oidc exists only once a provider route matched.
    const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
    const endpoint = oidc?.route ? ENDPOINTS[oidc.route] : undefined;
    // 503 (database) and 429 (rate limits) are counted by metrics; auditing each would flood the trail.
    if (!oidc || !endpoint || ctx.status === 503 || ctx.status === 429) return;
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    const caller = oidc.client?.clientId;
    if (ctx.status >= 400) {
      const error = typeof body.error === 'string' ? body.error : 'unknown';
      metrics.tokenErrors.inc({ endpoint, error });
      const named = caller ?? claimedClientId(ctx as unknown as KoaContextWithOIDC);
      // Refresh-token and code reuse are recorded (and counted) where they are detected:
      // src/oidc/refresh-rotation.ts, through the security events. Here they are failed requests.
      audit.record(
        {
          type: endpoint === 'token' ? 'token.request_failed' : endpoint === 'introspect' ? 'token.introspected' : 'token.revoked',
          outcome: 'failure',
          actor: named,
          clientId: named,
          details: { error, status: ctx.status, grant_type: endpoint === 'token' ? param(oidc, 'grant_type') : undefined },
        },
        ctx,
      );
      return;
    }
    if (endpoint === 'token') {
      const token = (oidc.entities.ClientCredentials ?? oidc.entities.AccessToken) as TokenEntity | undefined;
      recordIssuance({ audit, metrics }, ctx, { grantType: param(oidc, 'grant_type') ?? 'unknown', caller, token, body });
    } else if (endpoint === 'revoke') {
      // RFC 7009 answers 200 whether or not the token existed; the audit trail tells them apart.
      const token = findTokenEntity(oidc);
      audit.record(
        {
          type: 'token.revoked',
          actor: caller,
          clientId: token?.clientId ?? caller,
          subject: token?.accountId,
          grantId: token?.grantId,
          details: { found: Boolean(token), token_id: tokenId(token), token_kind: token?.kind },
        },
        ctx,
      );
    }
  });

  // Successful introspections are recorded by auditIntrospection (and by the fast lane for its own).

  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    audit.record({ type: 'grant.revoked', actor: ctx.oidc?.client?.clientId, clientId: ctx.oidc?.client?.clientId, grantId }, ctx);
  });

  // Emitted synchronously by the provider's error handler right after it set the 500 answer: the
  // answer is still ours to change.
  provider.on('server_error', (ctx: KoaContextWithOIDC, err: unknown) => {
    if (!isDatabaseUnavailable(err)) {
      if (isPrismaError(err)) metrics.databaseErrors.inc({ kind: 'other' });
      return;
    }
    reportDatabaseUnavailable(metrics, log, err, ctx.state?.requestId);
    ctx.status = 503;
    ctx.set('Retry-After', RETRY_AFTER_UNAVAILABLE);
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'application/json';
    ctx.body = { ...DATABASE_UNAVAILABLE };
  });
}

/**
 * A successful token response in the audit trail and metrics, from the provider's token endpoint
 * or the fast lane's issuance route (src/tokens/fast-issuance.ts).
 */
export function recordIssuance(
  { audit, metrics }: Pick<ProviderOperations, 'audit' | 'metrics'>,
  request: RequestLike,
  { grantType, caller, token, body }: { grantType: string; caller?: string; token?: TokenEntity; body: Record<string, unknown> },
): void {
  const tokenType = body.token_type === 'DPoP' ? 'DPoP' : 'Bearer';
  metrics.tokensIssued.inc({ grant_type: grantType, token_type: tokenType });
  audit.record(
    {
      type: grantType === 'refresh_token' ? 'token.refreshed' : 'token.issued',
      actor: caller,
      clientId: caller,
      subject: token?.accountId ?? (grantType === 'client_credentials' ? caller : undefined),
      grantId: token?.grantId,
      details: {
        grant_type: grantType,
        scope: typeof body.scope === 'string' ? body.scope : undefined,
        dpop: tokenType === 'DPoP',
        token_id: tokenId(token),
        refresh_token_issued: typeof body.refresh_token === 'string',
      },
    },
    request,
  );
}

/**
 * Runs before a client's secret is checked: the client's request budget for the endpoint and its
 * failed-authentication budget. A RateLimitError becomes the provider's own error type (so it is
 * rendered, not turned into server_error), with Retry-After.
 */
export async function guardClientAuthentication(limits: RateLimits, clientId: string): Promise<void> {
  const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
  // Already counted from its Basic header (src/rate-limit/middleware.ts).
  if (ctx?.state.rateLimitedClientId === clientId) return;
  const endpoint = ctx?.oidc?.route ? ENDPOINTS[ctx.oidc.route] : undefined;
  try {
    if (endpoint) await beforeClientAuthentication(limits, endpoint, clientId);
    else await limits.check('client_auth_failures', clientId);
  } catch (err) {
    if (!(err instanceof RateLimitError)) throw err;
    ctx?.set('Retry-After', String(err.retryAfterSeconds));
    const error = new errors.CustomOIDCProviderError(err.error, err.description);
    Object.assign(error, { status: 429, statusCode: 429 });
    throw error;
  }
}

/**
 * Records every successful introspection Koa answers (the provider's). The fast lane records its
 * own (src/tokens/lane.ts); a request it passed on has its raw body on ctx.req.body.
 */
export function auditIntrospection(audit: AuditLog, path: string) {
  return async function auditIntrospection(ctx: Context, next: Next): Promise<void> {
    await next();
    if (ctx.path !== path || ctx.method !== 'POST' || ctx.status !== 200) return;
    let body: Record<string, unknown> = {};
    try {
      body = typeof ctx.body === 'string' ? JSON.parse(ctx.body) : ((ctx.body ?? {}) as Record<string, unknown>);
    } catch {
      // not JSON (a signed introspection response): recorded without the token's details
    }
    const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
    const raw = (ctx.req as { body?: unknown }).body;
    const token = oidc?.params?.token ?? (Buffer.isBuffer(raw) ? parseQuery(raw.toString('utf8')).token : undefined);
    const found = oidc ? findTokenEntity(oidc) : undefined;
    recordIntrospection(audit, ctx, {
      caller: oidc?.client?.clientId ?? basicClientId(ctx.get('authorization')),
      answer: body,
      tokenId: typeof token === 'string' && token ? sha256(token) : undefined,
      grantId: found?.grantId,
    });
  };
}

/** The introspection answer's members the audit trail keeps. */
export interface IntrospectionSummary {
  active?: unknown;
  client_id?: unknown;
  sub?: unknown;
  token_type?: unknown;
}

/** One answered introspection in the audit trail, from the provider or the fast lane. */
export function recordIntrospection(
  audit: AuditLog,
  request: RequestLike,
  { caller, answer, tokenId, grantId }: { caller?: string; answer: IntrospectionSummary; tokenId?: string; grantId?: string },
): void {
  audit.record(
    {
      type: 'token.introspected',
      actor: caller,
      clientId: typeof answer.client_id === 'string' ? answer.client_id : undefined,
      subject: typeof answer.sub === 'string' ? answer.sub : undefined,
      grantId: answer.active === true ? grantId : undefined,
      details: {
        active: answer.active === true,
        token_id: tokenId,
        token_type: typeof answer.token_type === 'string' ? answer.token_type : undefined,
      },
    },
    request,
  );
}

function tokenId(token: TokenEntity | undefined): string | undefined {
  // The same SHA-256 the adapter stores as the row id: correlatable, never usable.
  return token?.jti ? sha256(token.jti) : undefined;
}

function findTokenEntity(oidc: KoaContextWithOIDC['oidc']): TokenEntity | undefined {
  const { entities } = oidc;
  return (entities.AccessToken ?? entities.ClientCredentials ?? entities.RefreshToken) as TokenEntity | undefined;
}

function param(oidc: KoaContextWithOIDC['oidc'], name: string): string | undefined {
  const value = (oidc.params as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value.slice(0, 100) : undefined;
}

/** The client id a failed request named (body or Basic header), for the audit trail only. */
function claimedClientId(ctx: KoaContextWithOIDC): string | undefined {
  const id = param(ctx.oidc, 'client_id') ?? basicClientId(ctx.get('authorization'));
  return id && CLIENT_ID_PATTERN.test(id) ? id : undefined;
}
