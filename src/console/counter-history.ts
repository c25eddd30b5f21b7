// The metrics are counters since the process started; the dashboard draws them over time. This
// samples one counter's total every minute, in memory (per process: each instance, or worker,
// keeps its own), and answers how much it grew in each bucket of time.
import type { Counter } from 'prom-client';

const SAMPLE_EVERY_MS = 60_000;
/** The longest range the dashboard draws. */
const KEEP_MS = 7 * 86_400_000;

export class CounterHistory {
  /** Oldest first; `asked` marks one taken for a reader rather than by the timer. */
  readonly #samples: { at: number; total: number; asked?: boolean }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly counter: Counter) {}

  /**
   * Records the counter's total now. The dashboard asks for one too, so its last bucket is
   * current; such a sample replaces the one a reader asked for last, so readers add at most one.
   */
  async sample(now = Date.now(), asked = false): Promise<void> {
    const { values } = await this.counter.get();
    if (this.#samples.at(-1)?.asked) this.#samples.pop();
    this.#samples.push({ at: now, total: values.reduce((sum, { value }) => sum + value, 0), asked });
    while (this.#samples.length > 0 && this.#samples[0]!.at < now - KEEP_MS) this.#samples.shift();
  }

  start(): void {
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), SAMPLE_EVERY_MS).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** How much the counter grew in each of `buckets` buckets of `bucketMs` from `since` (nothing before the first sample). */
  growth(since: number, bucketMs: number, buckets: number): number[] {
    const totalAt = (time: number) => {
      let total = this.#samples[0]?.total ?? 0;
      for (const sample of this.#samples) {
        if (sample.at > time) break;
        total = sample.total;
      }
      return total;
    };
    return Array.from({ length: buckets }, (_, i) => totalAt(since + (i + 1) * bucketMs) - totalAt(since + i * bucketMs));
  }
}
