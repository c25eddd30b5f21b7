// Brute-force protection of the sign-in form, on the named rate limits (src/rate-limit/limits.ts).
// A failed sign-in counts against the address (whatever login was typed), and, when the login named
// a user, against that user (its id: the name and the e-mail address are one user) and against the
// pair of user and address. The address and the pair have budgets that refuse until the window
// ends: they stop the attacker's own address. The user's count refuses no one: past
// RATE_LIMIT_LOGIN_FAILURES_PER_USER it makes each address wait after its own failure for that
// user, 1 s doubling with every further failure up to RATE_LIMIT_LOGIN_MAX_DELAY_SECONDS. An address
// that has not failed for the user never waits, so wrong passwords from anywhere else cannot keep
// the right one out (docs/sign-in.md explains the choice). An IPv6 address counts as its /64: one
// host or household has that many, and would otherwise be a fresh address at every attempt.
import { addressKey, atAddress, type RateLimits } from '../rate-limit/limits.js';

export interface SignInThrottleConfig {
  /** Failures against one user, from any address, before each failing address must wait. 0: never. */
  loginFailuresPerUser: number;
  loginMaxDelaySeconds: number;
}

export class SignInThrottle {
  constructor(
    private readonly limits: RateLimits,
    private readonly config: SignInThrottleConfig,
  ) {}

  /**
   * Before a password is checked: throws RateLimitError while the address, or this user at this
   * address, is refused or waiting. `userId` is the user the login named, if any; an unknown login
   * is looked up the same way (under a key nothing counts against), so the answer takes as long.
   * An attempt that may fail into a wait holds its address at once, so those arriving from that
   * address while its password is checked wait too.
   */
  async check(userId: string | undefined, address: string): Promise<void> {
    const ip = addressKey(address);
    const pair = atAddress(userId ?? '', address);
    await this.limits.check('login_failures_ip', ip);
    await this.limits.check('login_failures_user_ip', pair);
    await this.limits.check('login_delay', pair);
    const failures = await this.limits.count('login_failures_user', userId ?? '');
    if (userId) await this.#wait(pair, failures + 1);
  }

  /** A wrong password (or an unknown login): counted, and the pair made to wait past the user's budget. */
  async failed(userId: string | undefined, address: string): Promise<void> {
    const ip = addressKey(address);
    await this.limits.penalize('login_failures_ip', ip);
    if (!userId) return;
    const pair = atAddress(userId, address);
    await this.limits.penalize('login_failures_user_ip', pair);
    await this.limits.penalize('login_failures_user', userId);
    await this.#wait(pair, await this.limits.count('login_failures_user', userId));
  }

  /**
   * Whether a refused attempt from this address goes into the audit trail: refusals are cheap to
   * send, so each address gets as many recorded per window as it may fail; past that they are only
   * counted (tollgate_rate_limit_rejections_total{limit="login_refusals_audited_ip"}).
   */
  async recordsRefusal(address: string): Promise<boolean> {
    return this.limits.consume('login_refusals_audited_ip', addressKey(address)).then(
      () => true,
      () => false,
    );
  }

  /** The user signed in from this address: its failures and wait there are forgotten (those from elsewhere are not). */
  async succeeded(userId: string, address: string): Promise<void> {
    const pair = atAddress(userId, address);
    await this.limits.reset('login_failures_user_ip', pair);
    await this.limits.reset('login_delay', pair);
  }

  /**
   * A checked attempt whose password was never judged (the argon2 gate was full, the database
   * failed): the hold `check` put on its address is lifted, since the address did not fail. The
   * pair was not waiting before, or `check` would have refused it.
   */
  async abandoned(userId: string | undefined, address: string): Promise<void> {
    if (userId) await this.limits.reset('login_delay', atAddress(userId, address));
  }

  async #wait(pair: string, failures: number): Promise<void> {
    const seconds = loginDelaySeconds(failures, this.config);
    if (seconds > 0) await this.limits.hold('login_delay', pair, seconds);
  }
}

/** Seconds an address waits after its failure brought the user's count to `failures`: 1, 2, 4... up to the maximum. */
export function loginDelaySeconds(failures: number, { loginFailuresPerUser: budget, loginMaxDelaySeconds: max }: SignInThrottleConfig): number {
  if (budget === 0 || failures < budget) return 0;
  return Math.min(max, 2 ** Math.min(failures - budget, 31));
}
