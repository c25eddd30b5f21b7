// In-memory rate limits shared by a cluster's workers: the counters live in the primary, so the
// workers spend one budget, not one each. Like rate-limiter-flexible's RateLimiterCluster, but each
// worker sends the operations of one turn of its event loop as one message, answered by one: a
// message per operation made the primary the bottleneck (about half the introspection throughput of
// 2 workers on 2 cores). Should the primary not answer in time, the worker counts in its own memory
// for those operations, as for Redis: a limit never fails a request.
import cluster from 'node:cluster';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

const LIMITS = 'tollgate:limits';
/** Past this, a batch is answered by the worker's own memory. */
const TIMEOUT_MS = 1000;

type Func = 'consume' | 'penalty' | 'reward' | 'block' | 'get' | 'delete';
/** One operation: what to call, on which limiter (created in the primary on first use), for which key. */
type Operation = [func: Func, keyPrefix: string, points: number, duration: number, key: string | number, arg: number | undefined];
/** RateLimiterRes' fields, in its constructor's order. */
type Fields = [remainingPoints: number, msBeforeNext: number, consumedPoints: number, isFirstInDuration: boolean];
/** ok: resolved with the value (a RateLimiterRes as its fields, or null / a boolean); refused: rejected with a RateLimiterRes; failed: any other error. */
type Outcome = ['ok', Fields | boolean | null] | ['refused', Fields] | ['failed'];

interface Batch {
  type: typeof LIMITS;
  id: number;
  operations?: Operation[];
  outcomes?: Outcome[];
}

const isBatch = (message: unknown): message is Batch =>
  typeof message === 'object' && message !== null && (message as Batch).type === LIMITS && typeof (message as Batch).id === 'number';

const fields = (res: RateLimiterRes): Fields => [res.remainingPoints, res.msBeforeNext, res.consumedPoints, res.isFirstInDuration];

/** In the primary: keeps the counters and answers the workers' batches. */
export function serveSharedLimits(): void {
  const limiters = new Map<string, RateLimiterMemory>();
  const run = ([func, keyPrefix, points, duration, key, arg]: Operation): Promise<Outcome> => {
    let limiter = limiters.get(keyPrefix);
    if (!limiter) limiters.set(keyPrefix, (limiter = new RateLimiterMemory({ keyPrefix, points, duration })));
    const call: Promise<RateLimiterRes | boolean | null> = func === 'get' || func === 'delete' ? limiter[func](key) : limiter[func](key, arg!);
    return call.then(
      (value): Outcome => ['ok', value instanceof RateLimiterRes ? fields(value) : value],
      (err: unknown): Outcome => (err instanceof RateLimiterRes ? ['refused', fields(err)] : ['failed']),
    );
  };
  cluster.on('message', (worker, message: unknown) => {
    if (!isBatch(message) || !Array.isArray(message.operations)) return;
    void Promise.all(message.operations.map(run)).then((outcomes) => {
      if (worker.isConnected()) worker.send({ type: LIMITS, id: message.id, outcomes } satisfies Batch, undefined, () => {});
    });
  });
}

/** In a worker: sends the operations queued in one turn of the event loop as one batch. */
class Channel {
  #next = 0;
  #queue: { operation: Operation; settle: (outcome: Outcome) => void }[] = [];
  readonly #sent = new Map<number, { settles: ((outcome: Outcome) => void)[]; timer: NodeJS.Timeout }>();

  constructor() {
    process.on('message', (message: unknown) => {
      if (!isBatch(message) || !Array.isArray(message.outcomes)) return;
      const batch = this.#sent.get(message.id);
      if (!batch) return;
      this.#sent.delete(message.id);
      clearTimeout(batch.timer);
      for (const [i, settle] of batch.settles.entries()) settle(message.outcomes![i] ?? ['failed']);
    });
  }

  run(operation: Operation): Promise<Outcome> {
    return new Promise((settle) => {
      if (this.#queue.push({ operation, settle }) === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    const id = this.#next++;
    const fail = () => {
      const batch = this.#sent.get(id);
      if (!batch) return;
      this.#sent.delete(id);
      clearTimeout(batch.timer);
      for (const settle of batch.settles) settle(['failed']);
    };
    this.#sent.set(id, { settles: queue.map((entry) => entry.settle), timer: setTimeout(fail, TIMEOUT_MS) });
    try {
      process.send!({ type: LIMITS, id, operations: queue.map((entry) => entry.operation) } satisfies Batch, (err: Error | null) => err && fail());
    } catch {
      fail();
    }
  }
}

let channel: Channel | undefined;

/**
 * A limiter whose counters are the primary's, shared by every worker (rate-limiter-flexible's
 * interface, as RateLimiterMemory). It is a RateLimiterMemory itself: this worker's own counters,
 * used when the primary does not answer.
 */
export class SharedMemoryLimiter extends RateLimiterMemory {
  readonly #spec: [keyPrefix: string, points: number, duration: number];

  constructor(options: { points: number; duration: number; keyPrefix: string }) {
    super(options);
    this.#spec = [options.keyPrefix, options.points, options.duration];
    channel ??= new Channel();
  }

  override consume(key: string | number, points = 1) {
    return this.#shared('consume', key, points, () => super.consume(key, points)) as Promise<RateLimiterRes>;
  }
  override penalty(key: string | number, points = 1) {
    return this.#shared('penalty', key, points, () => super.penalty(key, points)) as Promise<RateLimiterRes>;
  }
  override reward(key: string | number, points = 1) {
    return this.#shared('reward', key, points, () => super.reward(key, points)) as Promise<RateLimiterRes>;
  }
  override block(key: string | number, seconds: number) {
    return this.#shared('block', key, seconds, () => super.block(key, seconds)) as Promise<RateLimiterRes>;
  }
  override get(key: string | number) {
    return this.#shared('get', key, undefined, () => super.get(key)) as Promise<RateLimiterRes | null>;
  }
  override delete(key: string | number) {
    return this.#shared('delete', key, undefined, () => super.delete(key)) as Promise<boolean>;
  }

  async #shared(func: Func, key: string | number, arg: number | undefined, local: () => Promise<unknown>): Promise<unknown> {
    const [kind, value] = await channel!.run([func, ...this.#spec, key, arg]);
    if (kind === 'failed') return local();
    const result = Array.isArray(value) ? new RateLimiterRes(...value) : value;
    if (kind === 'refused') throw result;
    return result;
  }
}
