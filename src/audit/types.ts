// What an audit event may carry. Values are short identifiers and facts, never a secret or a token.

/** The event types Tollgate records; others (e.g. from new features) are accepted as long as they are dotted names. */
export const AUDIT_TYPES = [
  'token.issued',
  'token.refreshed',
  'token.refresh_reuse_detected',
  'token.refresh_grace_used',
  'token.code_reuse_detected',
  'token.request_failed',
  'token.introspected',
  'token.gateway_checked',
  'token.revoked',
  'grant.revoked',
  'client.created',
  'client.updated',
  'client.secret_rotated',
  'client.deleted',
  'admin.denied',
  'user.login',
  'user.login_throttled',
  'user.created',
  'user.updated',
  'user.deleted',
  'user.consent_revoked',
  'resource_server.created',
  'resource_server.updated',
  'resource_server.deleted',
  'resource_server.routes_updated',
  'keys.rotated',
  'audit.pruned',
] as const;

export type KnownAuditType = (typeof AUDIT_TYPES)[number];

export const AUDIT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,3}$/;

export type AuditDetail = string | number | boolean | null | string[];

export interface AuditEventInput {
  type: KnownAuditType | (string & {});
  /** Defaults to success. */
  outcome?: 'success' | 'failure';
  /** Who acted: the authenticated client, the admin client, a user id, or "cli". */
  actor?: string | null;
  clientId?: string | null;
  /** The resource owner: a user id, or the client itself for client_credentials. */
  subject?: string | null;
  grantId?: string | null;
  /** Filled from the request when one is given to record(). */
  ip?: string | null;
  requestId?: string | null;
  /** Event-specific facts: grant type, scopes, dpop, error code, a token's SHA-256 id... */
  details?: Record<string, AuditDetail | undefined>;
}
