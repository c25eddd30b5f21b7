// Security-relevant events of the user flows, emitted in one place: logged here, and handed to any
// listener (the audit trail) that subscribes. Events name clients, grants, users and addresses,
// never a token, code or password.
import type { Logger } from 'pino';

export type SecurityEventType =
  /** A used refresh token came back: its grant was revoked. */
  | 'refresh_token.reuse_detected'
  /** A used refresh token came back inside the client's grace period and was honoured once. */
  | 'refresh_token.grace_used'
  /** A used authorization code came back: its grant was revoked. */
  | 'authorization_code.reuse_detected'
  | 'user.login_succeeded'
  /** A wrong password, an unknown login, or a disabled account; accountId when the login named a user. */
  | 'user.login_failed'
  /** A sign-in refused before its password was checked: the address or the user there must wait. */
  | 'user.login_throttled';

export interface SecurityEvent {
  type: SecurityEventType;
  clientId?: string;
  grantId?: string;
  /** The user (sub). */
  accountId?: string;
  /** The source address (the request pipeline's: X-Forwarded-For only from TRUSTED_PROXIES). */
  ip?: string;
  requestId?: string;
  /** Why, in a word or two: wrong password, reuse after the grace period, a lost race, the limit that refused... */
  reason?: string;
  /** A throttled sign-in: the seconds the address was told to wait. */
  retryAfterSeconds?: number;
}

type Listener = (event: SecurityEvent) => void;

const WARNINGS = new Set<SecurityEventType>(['refresh_token.reuse_detected', 'authorization_code.reuse_detected', 'user.login_throttled']);

export class SecurityEvents {
  readonly #listeners: Listener[] = [];

  constructor(private readonly log: Logger) {}

  on(listener: Listener): void {
    this.#listeners.push(listener);
  }

  emit(event: SecurityEvent): void {
    const { type, ...fields } = event;
    this.log[WARNINGS.has(type) ? 'warn' : 'info']({ securityEvent: type, ...fields }, `security event: ${type}`);
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err, securityEvent: type }, 'security event listener failed');
      }
    }
  }
}
