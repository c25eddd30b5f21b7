// Every argon2 verification Tollgate runs, client secrets and user passwords alike, passes this
// one gate: at most `concurrency` at once (each holds a thread and, at production cost, 64 MiB
// for a quarter of a second) and at most `queueMax` waiting. Beyond that the answer is a quick
// 503 temporarily_unavailable, so a flood of guesses costs a bounded amount of memory and CPU,
// and callers whose secrets are remembered (no argon2) keep their normal latency.
import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { temporarilyUnavailable } from '../http/errors.js';
import { DEFAULT_HASH_COST, hashSecret, type HashCost } from './secrets.js';

export interface Argon2GateLimits {
  readonly concurrency: number;
  readonly queueMax: number;
}

/** No bound: for the admin CLI, which verifies nothing under load. */
export const UNBOUNDED: Argon2GateLimits = Object.freeze({ concurrency: Number.POSITIVE_INFINITY, queueMax: 0 });

/** Seconds a refused caller is asked to wait: a verification takes a fraction of one. */
const RETRY_AFTER_SECONDS = '1';

export class Argon2Gate {
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #dummy: Promise<string> | undefined;
  /** Verifications started and callers refused since start, for the metrics. */
  readonly stats = { verifications: 0, refusals: 0 };

  constructor(
    private readonly limits: Argon2GateLimits,
    /** The cost every stored hash is made at, and so the dummy's. */
    private readonly hashCost: HashCost = DEFAULT_HASH_COST,
  ) {}

  /**
   * Whether `presented` matches `hash`. Without a hash (no such client or user) it is verified
   * against a dummy hash of the same cost and is false: an unknown name costs what a known one does.
   */
  async verify(hash: string | undefined, presented: string): Promise<boolean> {
    const target = hash ?? (await this.#dummyHash());
    const matched = await this.run(() => argon2.verify(target, presented).catch(() => false));
    return hash !== undefined && matched;
  }

  /** Runs `work` when a place is free; throws 503 temporarily_unavailable at once when the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limits.concurrency) {
      if (this.#waiting.length >= this.limits.queueMax) {
        this.stats.refusals += 1;
        throw temporarilyUnavailable('too many secrets are being verified; retry later', RETRY_AFTER_SECONDS);
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    this.stats.verifications += 1;
    try {
      return await work();
    } finally {
      // The place passes straight to the next in line, or is freed.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }

  get inFlight(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  #dummyHash(): Promise<string> {
    // A failed hashing (out of memory under load) is tried again next time, not remembered.
    this.#dummy ??= hashSecret(randomBytes(32).toString('base64url'), this.hashCost).catch((err: unknown) => {
      this.#dummy = undefined;
      throw err;
    });
    return this.#dummy;
  }
}
