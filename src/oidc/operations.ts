// Tollgate's operational hooks into oidc-provider: the audit trail and metrics of the token,
// introspection and revocation endpoints, client authentication's failure and request budgets and
// its argon2 work for unknown client ids, and database outages (and a full argon2 gate, and rate
// limits) answered through the one error model instead of the provider's 500.
import { decodeJwt } from 'jose';
import type { Context, Next } from 'koa';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { KnownAuditType } from '../audit/types.js';
import type { RequestLike } from '../http/exchange.js';
import type { AuthenticationOrigin, ClientAuthenticator, SecretMethod } from '../clients/authentication.js';
import { CLIENT_ID_PATTERN } from '../clients/schema.js';
import { sha256 } from '../crypto/hash.js';
import type { Client } from '../db/database.js';
import { answerErrorInKoa } from '../http/answers.js';
import { answerFor } from '../http/errors.js';
import { afterUncomparedRefusals, replaceServerErrors } from './internals/index.js';
import { exchangeOf } from '../http/exchange.js';
import type { Metrics } from '../metrics/metrics.js';
import { addressKey, atAddress, type RateLimits } from '../rate-limit/limits.js';
import { CLIENT_ENDPOINT_OF_ROUTE, type ClientEndpoint, ENDPOINTS } from '../http/endpoints.js';
import { limitClientRequest } from '../rate-limit/middleware.js';
import { audiences } from '../tokens/policy.js';

export interface ProviderOperations {
  audit: AuditLog;
  metrics: Metrics;
  limits: RateLimits;
  log: Logger;
}

/** What recording a failed request takes. */
export type FailureRecording = Pick<ProviderOperations, 'audit' | 'metrics' | 'limits' | 'log'>;

export interface TokenEntity {
  jti?: string;
  grantId?: string;
  accountId?: string;
  clientId?: string;
  kind?: string;
}

export function instrumentProvider(provider: Provider, operations: ProviderOperations): void {
  const { audit, metrics } = operations;
  provider.use(async (ctx, next) => {
    await next();
    // ctx.oidc exists only once a provider route matched.
    const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
    const endpoint = oidc?.route ? CLIENT_ENDPOINT_OF_ROUTE.get(oidc.route) : undefined;
    // 503 (database) and 429 (rate limits) are counted by metrics; auditing each would flood the trail.
    if (!oidc || !endpoint || ctx.status === 503 || ctx.status === 429) return;
    const body = (ctx.body ?? {}) as Record<string, unknown>;
    const caller = oidc.client?.clientId;
    if (ctx.status >= 400) {
      const error = typeof body.error === 'string' ? body.error : 'unknown';
      const named = caller ?? claimedClientId(ctx as unknown as KoaContextWithOIDC);
      // Refresh-token and code reuse are recorded (and counted) where they are detected:
      // src/oidc/refresh-rotation.ts, through the security events. Here they are failed requests.
      // Before client authentication, or failed at it: nobody vouches for the request.
      const authenticated = caller !== undefined && ctx.status !== 401;
      recordFailure(operations, ctx, { endpoint, error, status: ctx.status, caller: named, grantType: param(oidc, 'grant_type'), authenticated });
      return;
    }
    if (endpoint === 'token') {
      const token = (oidc.entities.ClientCredentials ?? oidc.entities.AccessToken) as TokenEntity | undefined;
      recordIssuance({ audit, metrics }, ctx, { grantType: param(oidc, 'grant_type') ?? 'unknown', caller, token, body });
    } else if (endpoint === 'revoke') {
      recordRevocation({ audit }, ctx, { caller, token: findTokenEntity(oidc) });
    }
  });

  // Successful introspections are recorded by auditIntrospection (and by the introspection handler for its own).

  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    audit.record({ type: 'grant.revoked', actor: ctx.oidc?.client?.clientId, clientId: ctx.oidc?.client?.clientId, grantId }, ctx);
  });

  // The provider's 500 for an error it does not know becomes the one error model's answer (a 503 for a database outage).
  replaceServerErrors(provider, (ctx, err) => answerWithError(ctx, err, operations));
}

/** Replaces the answer in `ctx` with the one error model's answer to `err`. */
function answerWithError(ctx: Context, err: unknown, reporting: Pick<ProviderOperations, 'metrics' | 'log'>): void {
  answerErrorInKoa(ctx, answerFor(err, reporting, ctx.state?.requestId));
}

/**
 * A token, introspection or revocation request answered with an error, in the audit trail and
 * metrics. Failures of callers that did not authenticate are recorded up to a budget per address
 * (RATE_LIMIT_AUDITED_FAILURES_PER_IP); past it they are only counted
 * (tollgate_rate_limit_rejections_total{limit="audited_failures_ip"}), with one warning per address
 * and window, so junk requests cannot flood the trail.
 */
export function recordFailure(
  { audit, metrics, limits, log }: FailureRecording,
  request: RequestLike,
  {
    endpoint,
    error,
    status,
    caller,
    grantType,
    authenticated,
  }: { endpoint: ClientEndpoint; error: string; status: number; caller?: string; grantType?: string; authenticated: boolean },
): void {
  metrics.tokenErrors.inc({ endpoint, error });
  const record = () =>
    audit.record(
      {
        type: ENDPOINTS[endpoint].failureEvent satisfies KnownAuditType,
        outcome: 'failure',
        actor: caller,
        clientId: caller,
        details: { error, status, grant_type: endpoint === 'token' ? grantType : undefined },
      },
      request,
    );
  if (authenticated) return void record();
  void limits.excess('audited_failures_ip', addressKey(request.ip)).then((excess) => {
    if (excess === 0) record();
    else if (excess === 1)
      log.warn({ ip: request.ip, requestId: request.state.requestId }, 'audit: failed requests from this address are no longer recorded until the window ends');
  });
}

/** An answered revocation in the audit trail. RFC 7009 answers 200 whether or not the token existed; the trail tells them apart. */
export function recordRevocation(
  { audit }: Pick<ProviderOperations, 'audit'>,
  request: RequestLike,
  { caller, token }: { caller?: string; token?: TokenEntity },
): void {
  audit.record(
    {
      type: 'token.revoked',
      actor: caller,
      clientId: token?.clientId ?? caller,
      subject: token?.accountId,
      grantId: token?.grantId,
      details: { found: Boolean(token), token_id: tokenId(token), token_kind: token?.kind },
    },
    request,
  );
}

/**
 * A successful token response in the audit trail and metrics, from the provider's token endpoint
 * or Tollgate's own issuance handler (src/tokens/issuance-handler.ts).
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
 * A token, introspection or revocation request that named, with a secret, a client id nobody has
 * (or a public client, which has no secret) costs what a wrong secret for a client with one costs
 * (the same failure budgets, one argon2 verification against a dummy hash) before the provider's
 * 401 goes out, so neither timing nor budgets tell which client ids exist.
 */
export function verifyUnknownClients(provider: Provider, authenticator: ClientAuthenticator, reporting: Pick<ProviderOperations, 'metrics' | 'log'>): void {
  afterUncomparedRefusals(provider, CLIENT_ENDPOINT_OF_ROUTE, async function verifyUnknownClient(ctx) {
    const claimed = presentedSecret(ctx);
    if (!claimed) return;
    try {
      await authenticator.authenticate(claimed.id, undefined, claimed.method, claimed.secret, { ip: ctx.ip });
    } catch (err) {
      answerWithError(ctx, err, reporting);
    }
  });
}

/**
 * Where the provider's client secret comparison is called from: the request's address and, on a
 * token endpoint, the endpoint whose budget the client spends once authenticated.
 */
export function authenticationOrigin(): AuthenticationOrigin & { method: SecretMethod } {
  const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
  if (!ctx) throw new Error('client authentication outside a provider request');
  const route = ctx.oidc?.route;
  // The provider takes either secret method from any client; the policy, the registered one only.
  const method = ctx.oidc?.params?.client_secret === undefined ? 'client_secret_basic' : 'client_secret_post';
  return { ip: ctx.ip, endpoint: route ? CLIENT_ENDPOINT_OF_ROUTE.get(route) : undefined, method };
}

/**
 * For the provider's Client adapter: a public client (token_endpoint_auth_method none) has no
 * secret, so anyone can name it; it spends its request budget of a token endpoint as soon as the
 * provider finds it to authenticate a request, per address, so that naming it from one address
 * keeps nobody else from it. Clients with a secret spend theirs once authenticated (ClientAuthenticator).
 */
export function countPublicClients(limits: RateLimits) {
  return async function countPublicClient(client: Pick<Client, 'id' | 'tokenEndpointAuthMethod'>): Promise<void> {
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    const endpoint = ctx?.oidc?.route ? CLIENT_ENDPOINT_OF_ROUTE.get(ctx.oidc.route) : undefined;
    // Found for client authentication: before the request has a client (introspection later finds the token's).
    if (!endpoint || ctx!.oidc.client || client.tokenEndpointAuthMethod !== 'none') return;
    await limitClientRequest(limits, endpoint, atAddress(client.id, ctx!.ip));
  };
}

/** The client id and secret a request presented, in its body or its Basic header. */
function presentedSecret(ctx: KoaContextWithOIDC): { id: string; secret: string; method: SecretMethod } | undefined {
  const id = param(ctx.oidc, 'client_id');
  const secret = param(ctx.oidc, 'client_secret');
  if (id && secret) return { id, secret, method: 'client_secret_post' };
  const basic = exchangeOf(ctx.req).credentials;
  return basic ? { ...basic, method: 'client_secret_basic' } : undefined;
}

/**
 * Records every successful introspection Koa answers (the provider's). The introspection handler
 * records its own (src/tokens/introspection-handler.ts).
 */
/** The RFC 7662 answer inside a signed introspection response (RFC 9701), or {} for anything else. */
function signedIntrospectionAnswer(body: unknown): Record<string, unknown> {
  try {
    const answer = decodeJwt(String(body)).token_introspection;
    return answer && typeof answer === 'object' ? (answer as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function auditIntrospection(audit: AuditLog, path: string) {
  return async function auditIntrospection(ctx: Context, next: Next): Promise<void> {
    await next();
    if (ctx.path !== path || ctx.method !== 'POST' || ctx.status !== 200) return;
    let body: Record<string, unknown> = {};
    try {
      body = typeof ctx.body === 'string' ? JSON.parse(ctx.body) : ((ctx.body ?? {}) as Record<string, unknown>);
    } catch {
      // A signed introspection response (RFC 9701): the answer is its token_introspection claim.
      body = signedIntrospectionAnswer(ctx.body);
    }
    const oidc = (ctx as Partial<KoaContextWithOIDC>).oidc;
    const token = oidc?.params?.token;
    const found = oidc ? findTokenEntity(oidc) : undefined;
    recordIntrospection(audit, ctx, {
      caller: oidc?.client?.clientId ?? basicClientId(ctx),
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
  aud?: unknown;
}

/**
 * One answered introspection in the audit trail, from the provider or the introspection handler.
 * An active answer changes nothing: it is tallied (per caller, token client, audience and minute
 * unless AUDIT_INTROSPECTIONS=each). An inactive one is a refusal, recorded on its own.
 */
export function recordIntrospection(
  audit: AuditLog,
  request: RequestLike,
  { caller, answer, tokenId, grantId }: { caller?: string; answer: IntrospectionSummary; tokenId?: string; grantId?: string },
): void {
  const subject = typeof answer.sub === 'string' ? answer.sub : undefined;
  const tokenType = typeof answer.token_type === 'string' ? answer.token_type : undefined;
  if (answer.active !== true) {
    audit.record({ type: 'token.introspected', actor: caller, subject, details: { active: false, token_id: tokenId, token_type: tokenType } }, request);
    return;
  }
  const audience = audiences(answer.aud);
  audit.tally(
    {
      type: 'token.introspected',
      actor: caller,
      clientId: typeof answer.client_id === 'string' ? answer.client_id : undefined,
      details: { active: true, audience: audience.length ? audience : undefined, token_type: tokenType },
    },
    request,
    { subject, grantId, details: { token_id: tokenId } },
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
  const id = param(ctx.oidc, 'client_id') ?? basicClientId(ctx);
  return id && CLIENT_ID_PATTERN.test(id) ? id : undefined;
}

/** The client id of the request's Basic header, as the request pipeline decoded it. */
function basicClientId(ctx: Context): string | undefined {
  return exchangeOf(ctx.req).credentials?.id;
}
