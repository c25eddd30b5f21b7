// Named rate limits on rate-limiter-flexible: in memory, or in Redis (REDIS_URL) so every instance
// shares the counters. A Redis that is down or hung never fails a request: each Redis limiter is
// insured by an in-memory twin that takes over at once (rejectIfRedisNotReady, no offline queue, and
// a hung Redis's connection dropped: src/rate-limit/redis-connection.ts).
// In a cluster (WEB_CONCURRENCY), "in memory" is the primary's memory, which all workers share.
import cluster from 'node:cluster';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { SharedMemoryLimiter } from '../cluster/rate-limits.js';
import type { Config } from '../config/config.js';
import { sha256 } from '../crypto/hash.js';
import { ENDPOINT_BUDGETS, type EndpointBudget } from '../http/endpoints.js';
import { TryLater } from '../domain-errors.js';
import { RedisConnection } from './redis-connection.js';

/** The limits that are no endpoint's budgets (those are declared with their endpoints: src/http/endpoints.ts). */
const OTHER_LIMITS = [
  'admin_client',
  'admin_ip',
  'gateway_ip',
  'client_auth_failures',
  'client_auth_failures_ip',
  'audited_failures_ip',
  'login_failures_user',
  'login_failures_ip',
  'login_failures_user_ip',
  'login_delay',
  'login_refusals_audited_ip',
] as const;
export type LimitName = EndpointBudget | (typeof OTHER_LIMITS)[number];
export const LIMITS: readonly LimitName[] = [...ENDPOINT_BUDGETS.map(({ name }) => name), ...OTHER_LIMITS];

/** A budget spent (429 Too Many Requests to an HTTP caller), with the seconds to wait. */
export class RateLimitError extends TryLater {
  readonly kind = 'rate_limited';

  constructor(
    readonly limit: LimitName,
    retryAfterSeconds: number,
  ) {
    super(limit.includes('failures') ? 'too many failed attempts; retry later' : 'rate limit exceeded; retry later', retryAfterSeconds);
  }
}

type RateConfig = Config['rateLimit'];

function budget(config: RateConfig, name: LimitName): { points: number; duration: number } {
  const window = config.windowSeconds;
  const failures = config.failureWindowSeconds;
  if (name in config.endpoints) return { points: config.endpoints[name as EndpointBudget], duration: window };
  const table: Record<Exclude<LimitName, EndpointBudget>, [number, number]> = {
    admin_client: [config.adminPerClient, window],
    admin_ip: [config.adminPerIp, window],
    client_auth_failures: [config.clientAuthFailures, failures],
    client_auth_failures_ip: [config.clientAuthFailuresPerIp, failures],
    audited_failures_ip: [config.auditedFailuresPerIp, window],
    login_failures_user: [config.loginFailuresPerUser, failures],
    login_failures_ip: [config.loginFailuresPerIp, failures],
    login_failures_user_ip: [config.loginFailuresPerUserIp, failures],
    // A user's failures from every address refuse no one (src/users/sign-in-throttle.ts); they hold
    // (user, address) pairs for a delay, each hold() naming its length.
    login_delay: [Math.min(config.loginFailuresPerUser, 1), config.loginMaxDelaySeconds],
    // Refused sign-ins cost no argon2 work, so the audit trail records only so many per address.
    login_refusals_audited_ip: [config.loginFailuresPerIp, failures],
  };
  const [points, duration] = table[name as Exclude<LimitName, EndpointBudget>];
  return { points, duration };
}

export class RateLimits {
  readonly #limiters = new Map<LimitName, { limiter: RateLimiterAbstract; points: number }>();
  #redis: RedisConnection | undefined;

  /** Counts in memory until start(); opens no connection. */
  constructor(
    private readonly config: Pick<Config, 'rateLimit' | 'redis'>,
    private readonly log: Logger,
    private readonly onReject: (limit: LimitName) => void = () => {},
  ) {
    if (!config.rateLimit.enabled) return;
    for (const name of LIMITS) {
      const { points, duration } = budget(config.rateLimit, name);
      if (points === 0) continue; // 0: this limit is off
      const options = { points, duration, keyPrefix: name };
      this.#limiters.set(name, { limiter: cluster.isWorker ? new SharedMemoryLimiter(options) : new RateLimiterMemory(options), points });
    }
  }

  /**
   * With REDIS_URL, connects to Redis, which then keeps the counters, the in-memory limiters
   * standing in while it is unreachable. Resolves once Redis has answered or failed its first
   * connection attempt (so the first requests already use it); never throws.
   */
  async start(): Promise<void> {
    const { redis } = this.config;
    if (!redis || !this.config.rateLimit.enabled || this.#redis) return;
    const connection = new RedisConnection(redis, this.log);
    this.#redis = connection;
    for (const [name, entry] of this.#limiters) {
      entry.limiter = new RateLimiterRedis({
        storeClient: connection.client,
        ...budget(this.config.rateLimit, name),
        keyPrefix: `${redis.keyPrefix}${name}`,
        rejectIfRedisNotReady: true,
        insuranceLimiter: entry.limiter,
      });
    }
    await connection.ready();
  }

  /** Counts one request against `name` for `key`; throws RateLimitError past the limit. */
  async consume(name: LimitName, key: string): Promise<void> {
    const entry = this.#limiters.get(name);
    if (!entry) return;
    try {
      await entry.limiter.consume(limitKey(key));
    } catch (res) {
      this.#reject(name, res);
    }
  }

  /**
   * Counts one against `name` for `key` and says how far past the limit it is (0 within it, 1 for
   * the first one past it) instead of throwing: for what degrades rather than refuses.
   */
  async excess(name: LimitName, key: string): Promise<number> {
    const entry = this.#limiters.get(name);
    if (!entry) return 0;
    try {
      await entry.limiter.consume(limitKey(key));
      return 0;
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) return 0;
      this.onReject(name);
      return res.consumedPoints - entry.points;
    }
  }

  /** Throws RateLimitError when `key` has used up `name` (a failure budget), without counting anything. */
  async check(name: LimitName, key: string): Promise<void> {
    const entry = this.#limiters.get(name);
    if (!entry) return;
    const res = await entry.limiter.get(limitKey(key)).catch(() => null);
    // An expired count the memory store has not dropped yet (its timers run on real time) is gone.
    if (res && res.msBeforeNext > 0 && res.consumedPoints >= entry.points) this.#reject(name, res);
  }

  /** The failures `key` has on record against `name` in the current window; 0 when none, or when the limit is off. */
  async count(name: LimitName, key: string): Promise<number> {
    const res = await this.#limiters
      .get(name)
      ?.limiter.get(limitKey(key))
      .catch(() => null);
    return res && res.msBeforeNext > 0 ? res.consumedPoints : 0;
  }

  /** Makes check() refuse `key` under `name` for the next `seconds`, whatever it had counted. */
  async hold(name: LimitName, key: string, seconds: number): Promise<void> {
    await this.#limiters
      .get(name)
      ?.limiter.block(limitKey(key), seconds)
      .catch(() => undefined);
  }

  /** Records one failure (a wrong secret or password) against `name` for `key`; never throws. */
  async penalize(name: LimitName, key: string): Promise<void> {
    await this.#limiters
      .get(name)
      ?.limiter.penalty(limitKey(key))
      .catch(() => undefined);
  }

  /** Forgets `key`'s count, e.g. a user's failures after a successful login. */
  async reset(name: LimitName, key: string): Promise<void> {
    await this.#limiters
      .get(name)
      ?.limiter.delete(limitKey(key))
      .catch(() => undefined);
  }

  /**
   * The Redis store, with REDIS_URL (else undefined): up while it holds the counters (not before
   * start(), nor while memory stands in), and how many calls a request waited out its timeout for.
   */
  store(): { up: boolean; timeouts: number } | undefined {
    if (!this.config.redis || !this.config.rateLimit.enabled) return undefined;
    return { up: this.#redis?.up ?? false, timeouts: this.#redis?.timeouts ?? 0 };
  }

  /** Closes the Redis connection start() opened. */
  async close(): Promise<void> {
    await this.#redis?.close();
  }

  #reject(name: LimitName, res: unknown): never {
    if (!(res instanceof RateLimiterRes)) throw res;
    this.onReject(name);
    throw new RateLimitError(name, Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
  }
}

/** The key of a budget of one client or user at one address (IPv6 as its /64): nobody elsewhere can spend it. Client and user ids hold no space, so no address makes one key another's. */
export function atAddress(id: string, ip: string): string {
  return `${id} ${addressKey(ip)}`;
}

/**
 * The address as the failure budgets (client authentication, sign-in) count it: IPv4 as it is
 * (also when IPv4-mapped), IPv6 as its /64, which one host or household has whole and would
 * otherwise make a fresh address of at every attempt.
 */
export function addressKey(ip: string): string {
  // Every IPv6 address has a colon: an IPv4 one needs no look with isIPv6's long regex (every token request asks).
  if (!ip.includes(':') || !isIPv6(ip)) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  const groups = (part: string) => (part ? part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : []);
  const [head = '', tail] = ip.replace(/%.*$/, '').split('::');
  const [before, after] = [groups(head), groups(tail ?? '')];
  const all = tail === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill('0'), ...after];
  return `${all
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

/** Keys are client ids, addresses or user names; a long one is hashed so no caller sets a key's size. */
function limitKey(key: string): string {
  return key.length <= 128 ? key : sha256(key);
}
