// Brute-force protection of the sign-in form, on the named rate limits (src/rate-limit/limits.ts).
// A failed sign-in counts against the address (whatever login was typed), and, when the login named
// a user, against that user (its id: the name and the e-mail address are one user) and against the
// pair of user and address. The address and the pair have budgets that refuse until the window
// ends: they stop the attacker's own address. The user's count refuses no one: past
// RATE_LIMIT_LOGIN_FAILURES_PER_USER it makes each address wait after its own failure for that
// user, 1 s doubling with every further failure up to RATE_LIMIT_LOGIN_MAX_DELAY_SECONDS. An address
// that has not failed for the user never waits, so wrong passwords from anywhere else cannot keep
// the right one out (docs/sign-in.md explains the choice).
import type { RateLimits } from '../rate-limit/limits.js';

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
   * An attempt that may fail into a wait holds its address at once, so parallel attempts wait too.
   */
  async check(userId: string | undefined, ip: string): Promise<void> {
    const pair = pairKey(userId, ip);
    await this.limits.check('login_failures_ip', ip);
    await this.limits.check('login_failures_user_ip', pair);
    await this.limits.check('login_delay', pair);
    const failures = await this.limits.count('login_failures_user', userId ?? '');
    if (userId) await this.#wait(pair, failures + 1);
  }

  /** A wrong password (or an unknown login): counted, and the pair made to wait past the user's budget. */
  async failed(userId: string | undefined, ip: string): Promise<void> {
    await this.limits.penalize('login_failures_ip', ip);
    if (!userId) return;
    const pair = pairKey(userId, ip);
    await this.limits.penalize('login_failures_user_ip', pair);
    await this.limits.penalize('login_failures_user', userId);
    await this.#wait(pair, await this.limits.count('login_failures_user', userId));
  }

  /** The user signed in from this address: its failures and wait there are forgotten (those from elsewhere are not). */
  async succeeded(userId: string, ip: string): Promise<void> {
    const pair = pairKey(userId, ip);
    await this.limits.reset('login_failures_user_ip', pair);
    await this.limits.reset('login_delay', pair);
  }

  /** Seconds an address waits after a failure that brought the user's count to `failures`. */
  delayAfter(failures: number): number {
    const budget = this.config.loginFailuresPerUser;
    if (budget === 0 || failures < budget) return 0;
    return Math.min(this.config.loginMaxDelaySeconds, 2 ** Math.min(failures - budget, 31));
  }

  async #wait(pair: string, failures: number): Promise<void> {
    const seconds = this.delayAfter(failures);
    if (seconds > 0) await this.limits.hold('login_delay', pair, seconds);
  }
}

/** User ids are UUIDs, so no address can make one pair's key another's. */
const pairKey = (userId: string | undefined, ip: string) => `${userId ?? ''} ${ip}`;
