// GATEWAY_PORT's handler: the request pipeline every request passes (request id, security headers,
// log line, metrics, the one error model), in front of the gateway check alone; any other path is
// 404. Its callers are gateways: their address is the TCP peer's, and each has its own budget.
import type { RequestListener } from 'node:http';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { Caches } from '../cache/caches.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import { endpointTable } from '../http/endpoint-table.js';
import { knownPaths } from '../http/endpoints.js';
import { requestPipeline } from '../http/pipeline.js';
import type { Metrics } from '../metrics/metrics.js';
import type { KeyRing } from '../keys/key-ring.js';
import { findActiveAccessToken } from '../oidc/access-tokens.js';
import { proofFirstUse } from '../oidc/dpop-proofs.js';
import { jwtAccessTokenIds } from '../oidc/jwt-access-tokens.js';
import type { RateLimits } from '../rate-limit/limits.js';
import { gatewayCheck } from './check.js';
import type { ResourceServerService } from '../resource-servers/service.js';
import { RouteDirectory } from './directory.js';

export interface GatewayListenerDeps {
  config: Config;
  db: Database;
  caches: Caches;
  resourceServers: ResourceServerService;
  provider: Provider;
  /** The published keys a JWT access token is verified against. */
  keys: KeyRing;
  limits: RateLimits;
  metrics: Metrics;
  log: Logger;
  audit: AuditLog;
}

export function gatewayListener({ config, db, caches, resourceServers, provider, keys, limits, metrics, log, audit }: GatewayListenerDeps): RequestListener {
  // The resource servers every instance keeps in memory, the same array until one changes.
  const directory = new RouteDirectory(() => resourceServers.all());
  const answer = gatewayCheck({
    caches,
    directory,
    findToken: (value) => findActiveAccessToken(provider, resourceServers, value),
    jwtIds: jwtAccessTokenIds(keys, config.issuer),
    firstUse: proofFirstUse(db),
    key: config.gateway.key,
    // A check let through changes nothing: counted per token client, audience and minute, like an
    // active introspection (AUDIT_INTROSPECTIONS).
    passed: (token, audience) =>
      audit.tally({ type: 'token.gateway_checked', clientId: token.clientId, details: { audience: [audience] } }, undefined, {
        subject: token.subject,
        grantId: token.grantId,
      }),
  });
  return requestPipeline({
    endpoints: endpointTable('gateway', { handlers: { gateway: answer }, settings: { jwksCacheSeconds: config.keys.jwksCacheSeconds } }),
    knownPaths: knownPaths('gateway'),
    issuer: config.issuer,
    issuerPath: '',
    wellKnown: [],
    trustedProxies: [],
    limits,
    metrics,
    log,
  }).listener;
}
