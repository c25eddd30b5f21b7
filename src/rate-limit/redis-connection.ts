// The Redis connection that keeps the rate-limit counters, and whether they are kept there now.
//
// A dead Redis is plain to see: the connection closes, and while ioredis reconnects every command
// fails at once (no offline queue), so the in-memory limits answer without waiting. A hung one (a
// frozen process, a path that drops packets) is not: the connection stays open and every command
// waits REDIS_TIMEOUT_MS first. So a hung Redis is made a dead one, a circuit breaker: after
// OPEN_AFTER_TIMEOUTS calls in a row have timed out, the connection is dropped (open). While ioredis
// reconnects, rate-limiter-flexible (rejectIfRedisNotReady) sends Redis nothing and the in-memory
// limits answer at once. Each reconnection's ready check, bound by the same timeout and spaced by the
// retry strategy's backoff, is the half-open probe: the first one Redis answers closes the breaker.
import { Redis, type Command, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';

/** Two, not one: a single slow call (a big key, a fork) should not cost a reconnection. */
export const OPEN_AFTER_TIMEOUTS = 2;
/** How ioredis rejects a command that outlived `commandTimeout`; it has no error class for it. */
const TIMED_OUT = 'Command timed out';

/**
 * An ioredis client that reports how each call it sent ended. A call is a command sent on its own
 * or a whole transaction: rate-limiter-flexible's `get` is MULTI, GET, PTTL, EXEC in one pipeline,
 * whose four commands time out together, so only the pipeline's EXEC stands for it.
 */
class WatchedRedis extends Redis {
  readonly #answered: () => void;
  readonly #failed: (err: unknown) => void;

  constructor(url: string, options: Omit<RedisOptions, 'replyMapping'>, settled: (err: unknown) => void) {
    super(url, options);
    // Bound once, not two closures per command. The constructor's own connection sends nothing
    // before they are set: connecting is asynchronous.
    this.#answered = () => settled(undefined);
    this.#failed = settled;
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    const result = super.sendCommand(command, stream);
    if (stream === undefined || command.name === 'exec') command.promise.then(this.#answered, this.#failed);
    return result;
  }
}

export class RedisConnection {
  readonly client: Redis;
  #up = false;
  #warned = false;
  /** Calls timed out in a row while up. */
  #streak = 0;
  /** Calls a request waited REDIS_TIMEOUT_MS for while up (a probe's timeouts are not counted). */
  #timeouts = 0;

  /** Connects at once; the first requests use memory until Redis is ready (see ready()). */
  constructor(
    private readonly redis: NonNullable<Config['redis']>,
    private readonly log: Logger,
  ) {
    this.client = new WatchedRedis(
      redis.url,
      {
        // Commands fail at once while disconnected, so the in-memory insurance answers instead of a queue.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: redis.timeoutMs,
        connectTimeout: Math.max(redis.timeoutMs, 1000),
        // Keep trying to reconnect, at most every 2 s, for as long as the process runs.
        retryStrategy: (times) => Math.min(times * 200, 2000),
      },
      (err) => this.#settled(err),
    );
    this.client.on('ready', () => {
      if (!this.#up) this.log.info('rate limits: using Redis');
      this.#up = true;
      this.#streak = 0;
    });
    this.client.on('error', (err) => {
      // Logged once per outage, not once per reconnect attempt.
      if (this.#up) this.log.warn({ err }, 'rate limits: Redis unavailable, falling back to in-memory limits');
      else if (!this.#warned) this.log.warn({ err }, 'rate limits: Redis not reachable, using in-memory limits until it is');
      this.#warned = true;
      this.#up = false;
    });
    this.client.on('close', () => {
      if (this.#up) this.log.warn('rate limits: Redis connection closed, falling back to in-memory limits');
      this.#up = false;
    });
  }

  /** True while Redis keeps the counters; false while memory stands in (a dead, hung or not yet ready Redis). */
  get up(): boolean {
    return this.#up;
  }

  /** How many Redis calls a request has waited out the timeout for, since start. */
  get timeouts(): number {
    return this.#timeouts;
  }

  /** Resolves once Redis has answered or failed the first connection attempt; never rejects. */
  ready(): Promise<void> {
    return new Promise<void>((resolve) => this.client.once('ready', resolve).once('error', resolve));
  }

  async close(): Promise<void> {
    this.client.removeAllListeners('error');
    this.client.on('error', () => {});
    await this.client.quit().catch(() => this.client.disconnect());
  }

  #settled(err: unknown): void {
    if (!this.#up) return; // the ready check of a reconnection: the probe, which ioredis retries itself
    if (!(err instanceof Error && err.message === TIMED_OUT)) {
      this.#streak = 0; // answered (an error reply is an answer), or failed at once
      return;
    }
    this.#timeouts++;
    if (++this.#streak < OPEN_AFTER_TIMEOUTS) return;
    this.#up = false;
    this.#warned = true;
    this.log.warn(
      { timeouts: this.#streak, timeoutMs: this.redis.timeoutMs },
      'rate limits: Redis not answering, using in-memory limits until it answers again',
    );
    // Fails the commands still waiting at once (maxRetriesPerRequest 0) and reconnects with backoff.
    this.client.disconnect(true);
  }
}
