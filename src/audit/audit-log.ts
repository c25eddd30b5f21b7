// The audit trail's writer. record() only queues (the request never waits for the audit table);
// a timer writes the queue in batches. A failed write keeps the events for the next attempt, so a
// database outage delays them rather than losing them; close() writes what is left.
// tally() is for successes that change nothing (an answered introspection): with aggregation on,
// equal ones of one minute become one row with their count, written once the minute is over.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database, Prisma } from '../db/database.js';
import { insertAuditEvents } from './insert-events.js';
import type { RequestLike } from '../http/exchange.js';
import { AUDIT_TYPE_PATTERN, type AuditEventInput } from './types.js';

const BATCH_SIZE = 500;
const MAX_TEXT = 256;
const MINUTE = 60_000;
/** Detail keys that could only ever hold a credential: dropped, whatever the caller passed. */
const SECRET_KEYS = /secret|password|passwd|assertion|verifier|cookie|authorization|^(access_|refresh_|id_)?token$|^code$/i;

export interface AuditLogOptions {
  flushIntervalMs: number;
  queueMax: number;
  /** aggregate: tally() folds a minute's equal events into one row; each: one row per event. */
  introspections: 'aggregate' | 'each';
}

/** A minute's equal tallied events, as the row they will be written as. */
type Tally = Prisma.AuditEventCreateManyInput & { count: number; firstAt: Date; lastAt: Date; minute: number };

export interface AuditStats {
  written: number;
  dropped: number;
  writeErrors: number;
}

export class AuditLog {
  #queue: Prisma.AuditEventCreateManyInput[] = [];
  #tallies = new Map<string, Tally>();
  #minuteTimer: NodeJS.Timeout | undefined;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #failing = false;
  #closed = false;
  #inFlight = 0;
  readonly stats: AuditStats = { written: 0, dropped: 0, writeErrors: 0 };

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    private readonly options: AuditLogOptions,
  ) {}

  /**
   * Queues one event. `request` (a Koa context) supplies the source address and request id.
   * Never throws: an invalid event is logged and skipped rather than failing the request.
   */
  record(event: AuditEventInput, request?: RequestLike): void {
    if (!AUDIT_TYPE_PATTERN.test(event.type)) {
      this.log.error({ auditType: String(event.type).slice(0, 64) }, 'audit event with an invalid type skipped');
      return;
    }
    this.#enqueue(row(event, request));
  }

  /**
   * Records a success that changes no state. With aggregation, equal events of one minute are
   * counted; the minute's row is queued when the minute is over (or on close()), with the count
   * and the first and last times. `own` holds what only a row per event keeps (subject, grant,
   * token id...): it is recorded with AUDIT_INTROSPECTIONS=each and dropped otherwise.
   */
  tally(
    event: Omit<AuditEventInput, 'subject' | 'grantId' | 'ip' | 'requestId'>,
    request: RequestLike | undefined,
    own: Pick<AuditEventInput, 'subject' | 'grantId' | 'details'>,
  ): void {
    if (this.options.introspections === 'each' || this.#closed || !AUDIT_TYPE_PATTERN.test(event.type)) {
      return this.record({ ...event, ...own, details: { ...event.details, ...own.details } }, request);
    }
    const now = new Date();
    const minute = Math.floor(now.getTime() / MINUTE);
    // The raw fields: the row (clipped, without secret-named details) is built once per minute.
    const key = JSON.stringify([minute, event.type, event.outcome, event.actor, event.clientId, event.details]);
    const tally = this.#tallies.get(key);
    if (tally) {
      tally.count++;
      tally.lastAt = now;
    } else {
      this.#tallies.set(key, { ...row(event), time: now, count: 1, firstAt: now, lastAt: now, minute });
    }
    this.#armMinuteTimer();
  }

  /** Writes the tallies when the minute is over, without waiting for another event. */
  #armMinuteTimer(): void {
    this.#minuteTimer ??= setTimeout(
      () => {
        this.#minuteTimer = undefined;
        void this.flush();
      },
      MINUTE - (Date.now() % MINUTE),
    ).unref();
  }

  #enqueue(entry: Prisma.AuditEventCreateManyInput): void {
    this.#push(entry);
    if (this.#closed) {
      // Late events (a request that outlived the shutdown timeout) are still attempted.
      void this.flush();
    } else if (this.#queue.length >= BATCH_SIZE) {
      void this.flush();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        void this.flush();
      }, this.options.flushIntervalMs).unref();
    }
  }

  /** Events not yet written, including a batch being written now and the minute's tallies. */
  get depth(): number {
    return this.#queue.length + this.#inFlight + this.#tallies.size;
  }

  /**
   * Writes everything queued so far and the tallies of the minutes that are over; resolves when
   * done or when a write fails (events are kept).
   */
  flush(): Promise<void> {
    this.#queueTallies(this.#closed ? Infinity : Math.floor(Date.now() / MINUTE));
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /**
   * Writes what is left, retrying while the database recovers, for at most `timeoutMs`. Events
   * still unwritten then are counted as dropped and reported in the log.
   */
  async close(timeoutMs = 5000): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#minuteTimer);
    this.#timer = undefined;
    this.#minuteTimer = undefined;
    const deadline = Date.now() + timeoutMs;
    await this.flush();
    while (this.#queue.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await this.flush();
    }
    if (this.#queue.length) {
      this.stats.dropped += this.#queue.length;
      this.log.error({ lost: this.#queue.length }, 'audit events could not be written before shutdown');
      this.#queue = [];
    }
  }

  #push(entry: Prisma.AuditEventCreateManyInput): void {
    this.#queue.push(entry);
    if (this.#queue.length > this.options.queueMax) {
      // Memory is bounded even through a long outage: the oldest events give way, loudly.
      const dropped = this.#queue.splice(0, this.#queue.length - this.options.queueMax).length;
      this.stats.dropped += dropped;
      this.log.error({ dropped, queueMax: this.options.queueMax }, 'audit queue full: oldest events dropped');
    }
  }

  /** Moves the tallies of minutes before `minute` into the queue (flush() writes them), as one row each. */
  #queueTallies(minute: number): void {
    for (const [key, { minute: of, ...tally }] of this.#tallies) {
      if (of >= minute) continue;
      this.#tallies.delete(key);
      this.#push({ ...tally, eventId: randomUUID(), time: tally.firstAt });
    }
    if (this.#tallies.size && !this.#closed) this.#armMinuteTimer();
  }

  async #drain(): Promise<void> {
    while (this.#queue.length) {
      const batch = this.#queue.splice(0, BATCH_SIZE);
      this.#inFlight = batch.length;
      try {
        await insertAuditEvents(this.db, batch);
      } catch (err) {
        // Back at the front, in order, for the next attempt.
        this.#queue.unshift(...batch);
        this.#inFlight = 0;
        this.stats.writeErrors++;
        if (!this.#failing) this.log.warn({ err, queued: this.#queue.length }, 'audit write failed; events kept for retry');
        this.#failing = true;
        if (!this.#closed) {
          this.#timer ??= setTimeout(
            () => {
              this.#timer = undefined;
              void this.flush();
            },
            Math.max(this.options.flushIntervalMs, 1000),
          ).unref();
        }
        return;
      }
      this.#inFlight = 0;
      this.stats.written += batch.length;
      if (this.#failing) this.log.info({ queued: this.#queue.length }, 'audit writes recovered');
      this.#failing = false;
    }
  }
}

function row(event: AuditEventInput, request?: RequestLike): Prisma.AuditEventCreateManyInput {
  return {
    eventId: randomUUID(),
    time: new Date(),
    type: event.type,
    outcome: event.outcome ?? 'success',
    actor: text(event.actor),
    clientId: text(event.clientId),
    subject: text(event.subject),
    grantId: text(event.grantId),
    sourceIp: text(event.ip ?? request?.ip),
    requestId: text(event.requestId ?? request?.state.requestId),
    details: details(event.details),
  };
}

function text(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : clip(String(value));
}

/**
 * At most MAX_TEXT characters, without NUL (PostgreSQL refuses it in text and jsonb, and one such
 * event would fail its whole batch again at every retry): a request's values are recorded as sent, else.
 */
function clip(value: string): string {
  const clipped = value.slice(0, MAX_TEXT);
  return clipped.includes('\u0000') ? clipped.replaceAll('\u0000', '\ufffd') : clipped;
}

function details(input: AuditEventInput['details']): Prisma.InputJsonObject | undefined {
  if (!input) return undefined;
  const out: Record<string, Prisma.InputJsonValue | null> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || SECRET_KEYS.test(key)) continue;
    out[clip(key.slice(0, 64))] = Array.isArray(value) ? value.slice(0, 50).map((v) => clip(String(v))) : typeof value === 'string' ? clip(value) : value;
  }
  return out;
}
