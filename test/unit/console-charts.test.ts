// The dashboard's arithmetic: the charts' axis, and a counter's growth per bucket of time.
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { axisTop } from '../../views/console/charts.js';
import { CounterHistory } from '../../src/console/counter-history.js';

describe('axisTop', () => {
  it('is a round, even number at least the largest value', () => {
    expect([0, 1, 2, 3, 7, 10, 11, 157, 999, 1000, 1001].map(axisTop)).toEqual([2, 2, 2, 5, 10, 10, 20, 200, 1000, 1000, 2000]);
  });
});

describe('CounterHistory', () => {
  it("answers a counter's growth in each bucket from its samples", async () => {
    const counter = new Counter({ name: 'refused_total', help: 'test', labelNames: ['limit'], registers: [new Registry()] });
    const history = new CounterHistory(counter);
    const t0 = 1_000_000;
    await history.sample(t0);
    counter.inc({ limit: 'token' }, 2);
    await history.sample(t0 + 30_000);
    counter.inc({ limit: 'admin' }, 3);
    await history.sample(t0 + 90_000);
    // Buckets of a minute from t0: +2 in the first, +3 in the second, nothing after.
    expect(history.growth(t0, 60_000, 3)).toEqual([2, 3, 0]);
    // Before the first sample nothing is known, so nothing grew.
    expect(history.growth(t0 - 120_000, 60_000, 2)).toEqual([0, 0]);
    // Readers' samples replace one another: the last one counts, however many readers asked.
    counter.inc({ limit: 'token' }, 1);
    await history.sample(t0 + 150_000, true);
    counter.inc({ limit: 'token' }, 4);
    await history.sample(t0 + 160_000, true);
    expect(history.growth(t0, 60_000, 3)).toEqual([2, 3, 5]);
    expect(history.growth(t0 + 120_000, 30_000, 2)).toEqual([0, 5]);
  });
});
