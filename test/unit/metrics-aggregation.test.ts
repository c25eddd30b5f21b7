// How a cluster's scrape adds up its workers' metrics (src/cluster/metrics.ts merges each worker's
// registry with prom-client's AggregatorRegistry, each metric by its definition's aggregator).
import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/metrics/metrics.js';

function worker(state: { storeUp: number; inFlight: number; depth: number }): Metrics {
  const metrics = new Metrics({
    audit: () => ({ depth: state.depth, written: 0, dropped: 0, writeErrors: 0 }),
    pool: () => ({ total: 4, idle: 3, waiting: 0 }),
    rateLimitStore: () => ({ up: state.storeUp === 1, timeouts: 3 }),
    argon2: () => ({ verifications: 7, refusals: 0, inFlight: state.inFlight, queued: 0 }),
  });
  metrics.tokensIssued.inc({ grant_type: 'client_credentials', token_type: 'Bearer' }, 5);
  return metrics;
}

const sample = (exposition: string, line: string) =>
  Number(
    exposition
      .split('\n')
      .find((l) => l.startsWith(`${line} `))
      ?.split(' ')[1],
  );

describe('metrics of several workers', () => {
  it('add up counters and per-process gauges, and show the rate-limit store down once any worker has fallen back', async () => {
    const workers = [worker({ storeUp: 1, inFlight: 2, depth: 10 }), worker({ storeUp: 0, inFlight: 1, depth: 5 })];
    const merged = await AggregatorRegistry.aggregate(await Promise.all(workers.map((w) => w.registry.getMetricsAsJSON()))).metrics();
    expect(sample(merged, 'tollgate_tokens_issued_total{grant_type="client_credentials",token_type="Bearer"}')).toBe(10);
    expect(sample(merged, 'tollgate_argon2_verifications_total')).toBe(14);
    expect(sample(merged, 'tollgate_argon2_in_flight')).toBe(3);
    expect(sample(merged, 'tollgate_audit_queue_depth')).toBe(15);
    expect(sample(merged, 'tollgate_db_pool_connections{state="total"}')).toBe(8);
    expect(sample(merged, 'tollgate_rate_limit_store_up')).toBe(0);
    expect(sample(merged, 'tollgate_rate_limit_store_timeouts_total')).toBe(6);
  });
});
