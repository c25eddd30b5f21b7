// Prometheus metrics, one registry per app instance (tests run several in one process).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricSources {
  /** Audit events waiting to be written, and totals. */
  audit?: () => { depth: number; written: number; dropped: number; writeErrors: number };
  /** PostgreSQL pool state (absent on the embedded store). */
  pool?: () => { total: number; idle: number; waiting: number };
  /** The shared rate-limit store (Redis): in use or not (limits in memory), and the calls a request waited out. */
  rateLimitStore?: () => { up: boolean; timeouts: number } | undefined;
  /** The argon2 gate: verifications started and callers refused since start, running and waiting now. */
  argon2?: () => { verifications: number; refusals: number; inFlight: number; queued: number };
  /**
   * In a cluster worker (src/cluster/metrics.ts): shares this registry with the primary, and returns
   * what a scrape answers instead of it, the aggregate of every worker's.
   */
  shareWithCluster?: (registry: Registry) => () => Promise<string>;
}

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'tollgate_http_requests_total',
    help: 'HTTP requests by endpoint, method and status code.',
    labelNames: ['endpoint', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'tollgate_http_request_duration_seconds',
    help: 'HTTP request latency by endpoint, method and outcome (status class).',
    labelNames: ['endpoint', 'method', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly tokensIssued = new Counter({
    name: 'tollgate_tokens_issued_total',
    help: 'Access tokens issued, by grant type and token type (Bearer or DPoP).',
    labelNames: ['grant_type', 'token_type'] as const,
    registers: [this.registry],
  });
  readonly handlerAnswers = new Counter({
    name: 'tollgate_handler_answers_total',
    help: 'Requests an endpoint answered with its own handler instead of oidc-provider: token (client_credentials), introspect (remembered or unknown tokens).',
    labelNames: ['endpoint'] as const,
    registers: [this.registry],
  });

  readonly tokenErrors = new Counter({
    name: 'tollgate_token_errors_total',
    help: 'Failed token, introspection and revocation requests by endpoint and OAuth error code.',
    labelNames: ['endpoint', 'error'] as const,
    registers: [this.registry],
  });
  readonly refreshReuse = new Counter({
    name: 'tollgate_refresh_token_reuse_detected_total',
    help: 'Refresh tokens presented again after use (their grant is revoked).',
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'tollgate_rate_limit_rejections_total',
    help: 'Requests refused with 429, by limit.',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });
  readonly databaseErrors = new Counter({
    name: 'tollgate_database_errors_total',
    help: 'Requests failed by the database: unavailable (answered 503) or other (500).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  #started = false;
  readonly #scrape: () => Promise<string>;

  constructor(sources: MetricSources = {}) {
    // Several workers' values add up (prom-client's default aggregator, set here for plain sight),
    // except where a definition says otherwise.
    const registers = [this.registry];
    const aggregator = 'sum';
    const { audit, pool, rateLimitStore, argon2, shareWithCluster } = sources;
    this.#scrape = shareWithCluster ? shareWithCluster(this.registry) : () => this.registry.metrics();
    if (audit) {
      new Gauge({
        name: 'tollgate_audit_queue_depth',
        help: 'Audit events waiting to be written.',
        registers,
        aggregator,
        collect() {
          this.set(audit().depth);
        },
      });
      new Gauge({
        name: 'tollgate_audit_events_written',
        help: 'Audit events written since start.',
        registers,
        aggregator,
        collect() {
          this.set(audit().written);
        },
      });
      new Gauge({
        name: 'tollgate_audit_events_dropped',
        help: 'Audit events lost (queue overflow, or unwritable at shutdown) since start.',
        registers,
        aggregator,
        collect() {
          this.set(audit().dropped);
        },
      });
      new Gauge({
        name: 'tollgate_audit_write_errors',
        help: 'Failed audit batch writes since start.',
        registers,
        aggregator,
        collect() {
          this.set(audit().writeErrors);
        },
      });
    }
    if (pool) {
      const gauge = new Gauge({
        name: 'tollgate_db_pool_connections',
        help: 'PostgreSQL pool connections by state.',
        labelNames: ['state'] as const,
        registers,
        aggregator,
        collect() {
          const stats = pool();
          gauge.set({ state: 'total' }, stats.total);
          gauge.set({ state: 'idle' }, stats.idle);
          gauge.set({ state: 'waiting' }, stats.waiting);
        },
      });
    }
    if (argon2) {
      // Counters kept by the gate itself, read when scraped.
      const total = (name: string, help: string, read: () => number) =>
        new Counter({
          name,
          help,
          registers,
          aggregator,
          collect() {
            this.reset();
            this.inc(read());
          },
        });
      total(
        'tollgate_argon2_verifications_total',
        'argon2 verifications run (client secrets, user passwords, dummies for unknown names).',
        () => argon2().verifications,
      );
      total('tollgate_argon2_refusals_total', 'Requests answered 503 because the argon2 gate was full.', () => argon2().refusals);
      new Gauge({
        name: 'tollgate_argon2_in_flight',
        help: 'argon2 verifications running now.',
        registers,
        aggregator,
        collect() {
          this.set(argon2().inFlight);
        },
      });
      new Gauge({
        name: 'tollgate_argon2_queued',
        help: 'argon2 verifications waiting for a place.',
        registers,
        aggregator,
        collect() {
          this.set(argon2().queued);
        },
      });
    }
    if (rateLimitStore) {
      // Of several workers, the lowest: 0 as soon as one of them has fallen back.
      new Gauge({
        name: 'tollgate_rate_limit_store_up',
        help: '1 while rate limits are kept in Redis, 0 while they fall back to memory.',
        registers,
        aggregator: 'min',
        collect() {
          const store = rateLimitStore();
          if (store) this.set(Number(store.up));
        },
      });
      new Counter({
        name: 'tollgate_rate_limit_store_timeouts_total',
        help: 'Redis calls (a command or a whole transaction) a request waited REDIS_TIMEOUT_MS for before in-memory limits answered.',
        registers,
        aggregator,
        collect() {
          const store = rateLimitStore();
          this.reset();
          if (store) this.inc(store.timeouts);
        },
      });
    }
  }

  /** The content type of scrape()'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** What GET /metrics answers, in Prometheus' text format: this registry, or every cluster worker's. */
  scrape(): Promise<string> {
    return this.#scrape();
  }

  /**
   * Starts the process metrics (CPU, memory, event-loop lag), which sample on a timer: started
   * with the server, not when the app is built. prom-client offers no way to stop them.
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    collectDefaultMetrics({ register: this.registry, prefix: 'tollgate_' });
  }
}
