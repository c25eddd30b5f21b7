// The domain services, wired once for every entry point: the server (buildApp, src/app.ts, whose
// admin socket serves the same ones) and the admin CLI with no server running
// (src/admin/direct-api.ts). Building them opens no connection and starts no timer.
import type { Logger } from 'pino';
import { AuditLog } from './audit/audit-log.js';
import { Caches } from './cache/caches.js';
import type { InvalidationBus } from './cache/invalidation.js';
import { Argon2Gate, type HashCheck } from './clients/argon2-gate.js';
import { SecretVerifier } from './clients/secrets.js';
import { ClientService } from './clients/service.js';
import type { Config } from './config/config.js';
import type { Database } from './db/database.js';
import { ResourceServerService } from './resource-servers/service.js';
import { UserService } from './users/service.js';

export interface Services {
  /** The one gate every argon2 verification (client secrets, user passwords) passes. */
  argon2: Argon2Gate;
  secrets: SecretVerifier;
  caches: Caches;
  clients: ClientService;
  /** The APIs tokens are issued for (RFC 8707). */
  resourceServers: ResourceServerService;
  users: UserService;
  /** The audit trail: `audit.record({ type, clientId, subject, ... }, ctx)` (src/audit/types.ts). */
  audit: AuditLog;
}

/**
 * `bus` carries cache invalidations to this process's caches and, when it is the PostgreSQL bus, to
 * other instances'. `hashCheck` replaces argon2's verification (tests hold verifications with it).
 */
export function createServices(db: Database, bus: InvalidationBus, config: Config, log: Logger, hashCheck?: HashCheck): Services {
  const argon2 = new Argon2Gate(config.argon2, config.hashCost, hashCheck);
  const secrets = new SecretVerifier(config.secretCacheSize, config.hashCost, argon2);
  const caches = new Caches(bus, secrets, config);
  // Revoking a user's grants ends them in this instance's token cache before the answer, as the provider's own revocations do.
  const grantsRevoked = async (grantIds: string[]) => void (await Promise.all(grantIds.map((id) => caches.bus.publish({ kind: 'grant', id }))));
  return {
    argon2,
    secrets,
    caches,
    clients: new ClientService(db, secrets, caches),
    resourceServers: new ResourceServerService(db, config.issuer, caches),
    users: new UserService(db, { grantsRevoked }, config.hashCost, argon2),
    audit: new AuditLog(db, log, config.audit),
  };
}
