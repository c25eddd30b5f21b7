// Every argon2 verification Tollgate runs, client secrets and user passwords alike, passes this
// one gate: at most `concurrency` at once (each holds a thread and, at production cost, 64 MiB
// for a quarter of a second) and at most `queueMax` waiting. Beyond that the answer is a quick
// refusal (VerificationsBusy, a 503 temporarily_unavailable to an HTTP caller), so a flood of guesses costs a bounded amount of memory and CPU,
// and callers whose secrets are remembered (no argon2) keep their normal latency.
//
// A flood must not starve the others, though: a verification against a stored hash that has no
// recent failure (a new client's first request, a user signing in) waits in a line of its own,
// served first, and takes the place of the newest suspect waiting when the queue is full. One
// place per hash: the secret verifier already shares one run among requests presenting the same
// secret, so a second one waiting on the same hash is a different secret, a guess.
// Suspect is a verification against a hash that failed lately, or against none at all (an unknown
// client id or user name, checked against the dummy), so a guesser cannot stay ahead of the line
// by naming ids that do not exist, and adds no state by inventing them: the gate remembers hashes
// that failed, which only real accounts have, and at most FAILURE_MEMORY of them.
import argon2 from 'argon2';
import { Overloaded } from '../domain-errors.js';
import { DEFAULT_HASH_COST, hashSecret, type HashCost } from '../crypto/argon2.js';
import { randomSecret } from '../crypto/random.js';

export interface Argon2GateLimits {
  readonly concurrency: number;
  readonly queueMax: number;
}

/** No bound: for a verifier or user service used alone, outside createServices. */
export const UNBOUNDED: Argon2GateLimits = Object.freeze({ concurrency: Number.POSITIVE_INFINITY, queueMax: 0 });

/** Stored hashes that failed lately, remembered at most: ~100 bytes each. */
export const FAILURE_MEMORY = 10_000;

/** Seconds a refused caller is asked to wait: a verification takes a fraction of one. */
const RETRY_AFTER_SECONDS = 1;

/** Whether `presented` matches the argon2 `hash`; false, never a throw, for a malformed hash. */
export type HashCheck = (hash: string, presented: string) => Promise<boolean>;

/** What verifies a hash unless a test holds verifications with a check of its own. */
export const argon2Check: HashCheck = (hash, presented) => argon2.verify(hash, presented).catch(() => false);

/** The gate is full: a quick refusal now rather than a long wait (a 503 with Retry-After to an HTTP caller). */
export class VerificationsBusy extends Overloaded {
  constructor(running: number, waiting: number) {
    super('too many secrets are being verified; retry later', RETRY_AFTER_SECONDS, { detail: { running, waiting } });
  }
}

interface Waiter {
  hash: string | undefined;
  admit: () => void;
  refuse: (err: Error) => void;
}

export class Argon2Gate {
  #running = 0;
  /** Waiting on hashes with no recent failure: served first. */
  readonly #clear: Waiter[] = [];
  /** Waiting on a hash that failed lately, or on the dummy. */
  readonly #suspect: Waiter[] = [];
  /** Hashes whose last verification failed, least recent first. */
  readonly #failed = new Set<string>();
  #dummy: Promise<string> | undefined;
  /** Verifications started and callers refused since start, for the metrics. */
  readonly stats = { verifications: 0, refusals: 0 };

  constructor(
    private readonly limits: Argon2GateLimits,
    /** The cost every stored hash is made at, and so the dummy's. */
    private readonly hashCost: HashCost = DEFAULT_HASH_COST,
    private readonly check: HashCheck = argon2Check,
  ) {}

  /**
   * Whether `presented` matches `hash`. Without a hash (no such client or user) it is verified
   * against a dummy hash of the same cost and is false: an unknown name costs what a known one does.
   */
  async verify(hash: string | undefined, presented: string): Promise<boolean> {
    const target = hash ?? (await this.#dummyHash());
    const matched = await this.#run(() => this.check(target, presented), hash);
    if (hash !== undefined) this.#remember(hash, matched);
    return hash !== undefined && matched;
  }

  /**
   * Runs `work` when a place is free; throws 503 temporarily_unavailable when the queue is full, at
   * once or, for a suspect waiting, when a verification against a hash with no recent failure
   * takes its place. `hash` is the stored hash the work checks against, if any: it decides the line.
   */
  async #run<T>(work: () => Promise<T>, hash: string | undefined): Promise<T> {
    if (this.#running >= this.limits.concurrency) await this.#wait(hash);
    else this.#running += 1;
    this.stats.verifications += 1;
    try {
      return await work();
    } finally {
      // The place passes straight to the next in line, or is freed.
      const next = this.#clear.shift() ?? this.#suspect.shift();
      if (next) next.admit();
      else this.#running -= 1;
    }
  }

  get inFlight(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#clear.length + this.#suspect.length;
  }

  #wait(hash: string | undefined): Promise<void> {
    const clear = hash !== undefined && !this.#failed.has(hash) && !this.#clear.some((waiter) => waiter.hash === hash);
    if (this.queued >= this.limits.queueMax) {
      // The newest suspect has waited least: it gives way, and the earlier ones keep their turn.
      const displaced = clear ? this.#suspect.pop() : undefined;
      this.stats.refusals += 1;
      if (!displaced) throw new VerificationsBusy(this.#running, this.queued);
      displaced.refuse(new VerificationsBusy(this.#running, this.queued));
    }
    return new Promise<void>((admit, refuse) => (clear ? this.#clear : this.#suspect).push({ hash, admit, refuse }));
  }

  #remember(hash: string, matched: boolean): void {
    this.#failed.delete(hash);
    if (matched) return;
    this.#failed.add(hash);
    // Sets iterate in insertion order: the first is the least recent failure.
    if (this.#failed.size > FAILURE_MEMORY) this.#failed.delete(this.#failed.values().next().value as string);
  }

  #dummyHash(): Promise<string> {
    // A failed hashing (out of memory under load) is tried again next time, not remembered.
    this.#dummy ??= hashSecret(randomSecret(), this.hashCost).catch((err: unknown) => {
      this.#dummy = undefined;
      throw err;
    });
    return this.#dummy;
  }
}
