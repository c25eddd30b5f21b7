// Cache invalidation between instances sharing one PostgreSQL database. The database announces every
// change itself, in the transaction that makes it (triggers, prisma/migrations/*_invalidation_notify):
// a change that commits is always heard by a listening instance, whoever made it. Each instance
// LISTENs on a dedicated connection and trusts its caches only while that connection has recently
// proven that it delivers: a listener that dies, hangs or is frozen turns the caches off within
// `freshForMs`, by construction rather than by a timeout noticing it.
import pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { invalidationEvent, Subscribers, type InvalidationBus, type InvalidationEvent, type InvalidationHandler } from './invalidation.js';

export const CHANNEL = 'tollgate_invalidation';

export interface PgBusOptions {
  /** How often the listening connection is asked to prove itself (a round trip on it). */
  heartbeatMs?: number;
  /**
   * How long after the start of its last answered proof the channel is trusted. A notification
   * committed before a proof starts arrives before its answer (one connection, in order), so no
   * cached answer is used more than this long after a change that ended it committed.
   */
  freshForMs?: number;
  /** A proof unanswered this long ends the connection; another is opened. */
  giveUpMs?: number;
  /** First delay before reconnecting; doubles up to 5 s. */
  reconnectMs?: number;
  /** The clock freshness is measured on: monotonic milliseconds (a wall clock set back would extend it). */
  now?: () => number;
}

/** What a notification carries. */
const notification = z.object({ events: z.array(invalidationEvent).min(1) });

export class PgBus implements InvalidationBus {
  readonly #subscribers = new Subscribers();
  #client: pg.Client | undefined;
  #listening = false;
  #closed = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #reconnectDelay: number;
  /** When the last answered proof started (on `now`). */
  #provenAt = -Infinity;
  /** When the proof awaiting its answer started, if one does. */
  #proving: number | undefined;
  #warnedSilent = false;

  private constructor(
    private readonly url: string,
    private readonly log: Logger,
    private readonly options: Required<PgBusOptions>,
  ) {
    this.#reconnectDelay = options.reconnectMs;
  }

  /** Connects and listens; start-up fails if PostgreSQL cannot be listened to. */
  static async start(url: string, log: Logger, options: PgBusOptions = {}): Promise<PgBus> {
    const bus = new PgBus(url, log, { heartbeatMs: 250, freshForMs: 1000, giveUpMs: 2000, reconnectMs: 250, now: () => performance.now(), ...options });
    await bus.#connect();
    bus.#heartbeat = setInterval(() => bus.#prove(), bus.options.heartbeatMs).unref();
    return bus;
  }

  /** True while the channel has proven itself within `freshForMs`: only then may caches be used. */
  get connected(): boolean {
    return this.#listening && this.options.now() - this.#provenAt < this.options.freshForMs;
  }

  /** The PostgreSQL backend that listens for this instance (for operators and tests: pg_stat_activity). */
  get listenerPid(): number | undefined {
    return (this.#client as { processID?: number } | undefined)?.processID ?? undefined;
  }

  subscribe(handler: InvalidationHandler, onReset: () => void): void {
    this.#subscribers.add(handler, onReset);
  }

  /**
   * Applies the event here, before the change is acknowledged; the other instances hear of it from
   * the database when the change commits (this instance too, a second time, which changes nothing).
   */
  async publish(event: InvalidationEvent): Promise<void> {
    this.#subscribers.deliver(event);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listening = false;
    clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, application_name: 'tollgate-invalidation' });
    client.on('notification', (message) => this.#receive(message.payload));
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client));
    const startedAt = this.options.now();
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    this.#client = client;
    // Listening only now: whatever was cached before may have missed events, so it goes.
    this.#subscribers.reset();
    this.#provenAt = startedAt;
    this.#proving = undefined;
    this.#warnedSilent = false;
    this.#listening = true;
    this.#reconnectDelay = this.options.reconnectMs;
  }

  #lost(client: pg.Client, err?: Error): void {
    if (client !== this.#client) return;
    this.#client = undefined;
    this.#listening = false;
    this.#subscribers.reset();
    client.end().catch(() => {});
    if (this.#closed) return;
    this.log.warn({ err }, 'lost the cache invalidation channel: caches off until it is back');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    setTimeout(() => {
      if (this.#closed) return;
      this.#connect().then(
        () => this.log.info('cache invalidation channel is back'),
        () => {
          this.#reconnectDelay = Math.min(this.#reconnectDelay * 2, 5000);
          this.#scheduleReconnect();
        },
      );
    }, this.#reconnectDelay).unref();
  }

  /** One proof at a time: a round trip on the listening connection, after any notification queued before it. */
  #prove(): void {
    const client = this.#client;
    if (!client) return;
    if (this.#proving !== undefined) return this.#awaitProof(this.#proving);
    const startedAt = this.options.now();
    this.#proving = startedAt;
    const giveUp = setTimeout(() => this.#lost(client, new Error('the invalidation channel stopped answering')), this.options.giveUpMs);
    client.query('SELECT 1').then(
      () => {
        clearTimeout(giveUp);
        if (client !== this.#client) return;
        this.#proving = undefined;
        this.#provenAt = Math.max(this.#provenAt, startedAt);
        const waitedMs = this.options.now() - startedAt;
        if (this.#warnedSilent || waitedMs >= this.options.freshForMs)
          this.log.warn({ waitedMs }, 'the cache invalidation channel answered late: caches were off meanwhile');
        this.#warnedSilent = false;
      },
      (err: Error) => {
        clearTimeout(giveUp);
        this.#lost(client, err);
      },
    );
  }

  /** Says once that the caches went off because the proof in flight is late. */
  #awaitProof(startedAt: number): void {
    if (this.#warnedSilent || this.options.now() - startedAt < this.options.freshForMs) return;
    this.#warnedSilent = true;
    this.log.warn({ backend: this.listenerPid }, 'the cache invalidation channel is not answering: caches off until it does');
  }

  #receive(payload: string | undefined): void {
    let message: unknown;
    try {
      message = JSON.parse(payload ?? '');
    } catch {
      message = undefined;
    }
    const received = notification.safeParse(message);
    if (!received.success) return this.log.warn('ignored a malformed cache invalidation message');
    for (const event of received.data.events) this.#subscribers.deliver(event);
  }
}
