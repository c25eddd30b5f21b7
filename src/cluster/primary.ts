// WEB_CONCURRENCY=N: N worker processes share the port (node:cluster) and the PostgreSQL database.
// The primary opens no database: it starts one worker, which applies the migrations, creates the
// admin client and the keys exactly as a single process would, and only once that worker is ready
// (it listens from the start, answering 503 until then) starts the others, which then find
// everything in place. It serves what the workers share: the in-memory rate-limit counters
// (src/cluster/rate-limits.ts) and the sum of their metrics (src/cluster/metrics.ts), on
// METRICS_PORT itself.
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { describeListenFailure, listen, type ListenSettings } from '../http/listen.js';
import { metricsServer } from '../metrics/http.js';
import { aggregateWorkerMetrics } from './metrics.js';
import { serveSharedLimits } from './rate-limits.js';

/** What a worker tells the primary once it has started and answers requests. */
export const WORKER_READY = 'tollgate:ready';

/** A worker that dies this soon after starting is not restarted: it would only die again. */
const CRASH_LOOP_MS = 5000;

export async function runPrimary(config: Config, log: Logger): Promise<void> {
  let stopping = false;
  let exitCode = 0;
  const startedAt = new Map<number, number>();
  const ready = new Set<number>();

  if (config.rateLimit.enabled) serveSharedLimits();
  const workerMetrics = aggregateWorkerMetrics(() => [...ready].flatMap((id) => cluster.workers?.[id] ?? []));
  const metricsListener = config.metrics.port === undefined ? undefined : metricsServer(() => (ready.size ? workerMetrics : undefined));
  if (metricsListener) {
    const settings: ListenSettings = { port: config.metrics.port!, host: config.metrics.host, portVariable: 'METRICS_PORT', hostVariable: 'METRICS_HOST' };
    await listen(metricsListener, settings).catch((err: unknown) => {
      log.fatal({ err }, 'start-up failed');
      process.stderr.write(`tollgate: ${describeListenFailure(err, settings)}\n`);
      process.exit(1);
    });
    const { port } = metricsListener.address() as AddressInfo;
    log.info({ metricsUrl: `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${port}/metrics` }, 'metrics listening');
  }

  const fork = (onReady?: () => void): Worker => {
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
    worker.on('message', (message) => {
      if (message !== WORKER_READY) return;
      ready.add(worker.id);
      onReady?.();
    });
    return worker;
  };

  fork(() => {
    for (let i = 1; i < config.webConcurrency; i += 1) fork();
    log.info({ workers: config.webConcurrency }, 'all workers started');
  });

  cluster.on('exit', (worker, code, signal) => {
    const wasReady = ready.delete(worker.id);
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(exitCode);
      return;
    }
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    if (!wasReady || lived < CRASH_LOOP_MS) {
      log.fatal({ worker: worker.id, code, signal }, 'a worker failed at start-up: stopping');
      stop(1);
      return;
    }
    log.error({ worker: worker.id, code, signal }, 'worker died: starting another');
    fork();
  });

  const stop = (code: number) => {
    stopping = true;
    exitCode = code;
    metricsListener?.close();
    metricsListener?.closeAllConnections();
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
    if (workers.length === 0) process.exit(code);
    for (const worker of workers) worker.process.kill('SIGTERM');
    // Each worker drains on its own; this is the backstop.
    setTimeout(() => process.exit(code || 1), (config.shutdownTimeoutSeconds + 5) * 1000).unref();
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'stopping workers');
      stop(0);
    });
  }
}
