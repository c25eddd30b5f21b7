// Cache invalidation between instances sharing one PostgreSQL database: LISTEN on a dedicated
// connection, NOTIFY through the ordinary pool right after the change is committed.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Database } from '../db/database.js';
import { invalidationEvent, Subscribers, type InvalidationBus, type InvalidationEvent, type InvalidationHandler } from './invalidation.js';

export const CHANNEL = 'tollgate_invalidation';

export interface PgBusOptions {
  /** How often the listening connection is proven alive; a dead one is only noticed then. */
  heartbeatMs?: number;
  /** First delay before reconnecting; doubles up to 5 s. */
  reconnectMs?: number;
}

/** Events per notification: PostgreSQL takes payloads under 8000 bytes, and an event is at most ~300. */
const EVENTS_PER_NOTIFICATION = 20;

/** What a notification carries: the events, and the instance they come from. */
const notification = z.object({ origin: z.string().optional(), events: z.array(invalidationEvent).min(1) });

/** Sends events to every listening instance. Usable without a bus, e.g. by the admin CLI. */
export async function notifyPostgres(db: Database, events: readonly InvalidationEvent[], origin = ''): Promise<void> {
  for (let start = 0; start < events.length; start += EVENTS_PER_NOTIFICATION) {
    const payload = JSON.stringify({ origin, events: events.slice(start, start + EVENTS_PER_NOTIFICATION) });
    // ::text: pg_notify returns void, which not every client can read back.
    await db.sql('tollgate_notify', 'SELECT pg_notify($1, $2)::text', [CHANNEL, payload]);
  }
}

export class PgBus implements InvalidationBus {
  readonly #origin = randomUUID();
  readonly #subscribers = new Subscribers();
  #client: pg.Client | undefined;
  #connected = false;
  #closed = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #reconnectDelay: number;
  #outbox: { event: InvalidationEvent; sent: () => void }[] = [];

  private constructor(
    private readonly url: string,
    private readonly db: Database,
    private readonly log: Logger,
    private readonly options: Required<PgBusOptions>,
  ) {
    this.#reconnectDelay = options.reconnectMs;
  }

  /** Connects and listens; start-up fails if PostgreSQL cannot be listened to. */
  static async start(url: string, db: Database, log: Logger, options: PgBusOptions = {}): Promise<PgBus> {
    const bus = new PgBus(url, db, log, { heartbeatMs: 2000, reconnectMs: 250, ...options });
    await bus.#connect();
    bus.#heartbeat = setInterval(() => bus.#checkAlive(), bus.options.heartbeatMs).unref();
    return bus;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** The PostgreSQL backend that listens for this instance (for operators and tests: pg_stat_activity). */
  get listenerPid(): number | undefined {
    return (this.#client as { processID?: number } | undefined)?.processID ?? undefined;
  }

  subscribe(handler: InvalidationHandler, onReset: () => void): void {
    this.#subscribers.add(handler, onReset);
  }

  /**
   * Applies the event here at once; the events published in one event-loop turn (concurrent
   * revocations) then go to the other instances in one notification.
   */
  publish(event: InvalidationEvent): Promise<void> {
    this.#subscribers.deliver(event);
    return new Promise((resolve) => {
      this.#outbox.push({ event, sent: resolve });
      if (this.#outbox.length === 1) setImmediate(() => void this.#send());
    });
  }

  async #send(): Promise<void> {
    const batch = this.#outbox;
    this.#outbox = [];
    const events = batch.map(({ event }) => event);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await notifyPostgres(this.db, events, this.#origin);
        break;
      } catch (err) {
        // The change is committed; if no instance can be told, theirs are most likely cut off too
        // (and so not using their caches). Retry a little, then say so loudly.
        if (attempt === 3) {
          this.log.error({ err, events: events.length }, 'could not notify other instances of a change');
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
    for (const { sent } of batch) sent();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#connected = false;
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
    this.#connected = true;
    this.#reconnectDelay = this.options.reconnectMs;
  }

  #lost(client: pg.Client, err?: Error): void {
    if (client !== this.#client) return;
    this.#client = undefined;
    this.#connected = false;
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

  #checkAlive(): void {
    const client = this.#client;
    if (!client) return;
    const timeout = setTimeout(() => this.#lost(client, new Error('heartbeat timed out')), this.options.heartbeatMs);
    client.query('SELECT 1').then(
      () => clearTimeout(timeout),
      (err: Error) => {
        clearTimeout(timeout);
        this.#lost(client, err);
      },
    );
  }

  #receive(payload: string | undefined): void {
    let message: unknown;
    try {
      message = JSON.parse(payload ?? '');
    } catch {
      message = undefined;
    }
    if ((message as { origin?: unknown })?.origin === this.#origin) return; // applied when published
    const received = notification.safeParse(message);
    if (!received.success) return this.log.warn('ignored a malformed cache invalidation message');
    for (const event of received.data.events) this.#subscribers.deliver(event);
  }
}
