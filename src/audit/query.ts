// Reading and pruning the audit trail: shared by GET /admin/audit and `npm run admin -- audit …`.
import { z } from 'zod';
import type { AuditEvent, Database, Prisma } from '../db/database.js';
import { AUDIT_TYPE_PATTERN } from './types.js';

/** The largest id a bigint column holds. */
const MAX_BIGINT = 2n ** 63n - 1n;

const identifier = z.string().min(1).max(256);
/** An ISO 8601 instant with an offset, from year 1 on (the database has no year 0). */
const instant = z.iso
  .datetime({ offset: true })
  .transform((v) => new Date(v))
  .refine((date) => date.getUTCFullYear() >= 1, 'must be in year 1 or later');

export const listAuditInput = z
  .strictObject({
    type: z
      .string()
      .max(1000)
      .transform((v) =>
        v
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(AUDIT_TYPE_PATTERN, 'must be dotted names like token.issued')).min(1).max(20))
      .optional()
      .describe('One type, or several separated by commas, e.g. token.issued,token.revoked.'),
    client_id: identifier.optional(),
    subject: identifier.optional(),
    actor: identifier.optional(),
    grant_id: identifier.optional(),
    request_id: identifier.optional(),
    outcome: z.enum(['success', 'failure']).optional(),
    since: instant.optional().describe('An ISO 8601 instant with an offset; inclusive.'),
    until: instant.optional().describe('An ISO 8601 instant with an offset; exclusive.'),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z
      .string()
      // An event id: a PostgreSQL bigint, which a larger number would overflow in the query.
      .regex(/^\d{1,19}$/, 'must be a next_cursor from a previous page')
      .refine((v) => !/^\d+$/.test(v) || BigInt(v) <= MAX_BIGINT, 'must be a next_cursor from a previous page')
      .optional()
      .describe('The next_cursor of the previous page.'),
  })
  .refine((v) => !(v.since && v.until) || v.since < v.until, { message: 'since must be before until', path: ['since'] });

export type ListAuditInput = z.output<typeof listAuditInput>;

/** Newest first; `nextCursor` is set when older events follow. */
export async function listAuditEvents(db: Database, input: ListAuditInput) {
  const where: Prisma.AuditEventWhereInput = {
    ...(input.type ? { type: { in: input.type } } : {}),
    ...(input.client_id ? { clientId: input.client_id } : {}),
    ...(input.subject ? { subject: input.subject } : {}),
    ...(input.actor ? { actor: input.actor } : {}),
    ...(input.grant_id ? { grantId: input.grant_id } : {}),
    ...(input.request_id ? { requestId: input.request_id } : {}),
    ...(input.outcome ? { outcome: input.outcome } : {}),
    ...(input.since || input.until ? { time: { ...(input.since ? { gte: input.since } : {}), ...(input.until ? { lt: input.until } : {}) } } : {}),
    ...(input.cursor ? { id: { lt: BigInt(input.cursor) } } : {}),
  };
  const rows = await db.prisma.auditEvent.findMany({ where, orderBy: { id: 'desc' }, take: input.limit + 1 });
  const page = rows.slice(0, input.limit);
  return { events: page.map(auditEventView), nextCursor: rows.length > input.limit ? String(page.at(-1)!.id) : undefined };
}

/** The API's shape: snake_case, the id as a string (it is a 64-bit integer). */
export const auditEventSchema = z.strictObject({
  id: z.string(),
  time: z.iso.datetime(),
  type: z.string(),
  outcome: z.enum(['success', 'failure']),
  actor: z.string().nullable(),
  client_id: z.string().nullable(),
  subject: z.string().nullable(),
  grant_id: z.string().nullable(),
  source_ip: z.string().nullable(),
  request_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).describe('Event-specific facts (grant type, scopes, DPoP, error code, ...).'),
  count: z
    .number()
    .int()
    .describe('How many occurrences the event stands for: 1, or a minute of active introspection answers (AUDIT_INTROSPECTIONS=aggregate).'),
  first_at: z.iso.datetime().nullable().describe('With a count: the first occurrence (also `time`).'),
  last_at: z.iso.datetime().nullable().describe('With a count: the last occurrence.'),
});

export const auditPageSchema = z.strictObject({
  events: z.array(auditEventSchema).describe('Newest first.'),
  next_cursor: z.string().optional().describe('The cursor of the next page; absent on the last page.'),
});

type AuditEventView = z.output<typeof auditEventSchema>;

export function auditEventView(event: AuditEvent): AuditEventView {
  return {
    id: String(event.id),
    time: event.time.toISOString(),
    type: event.type,
    // The audit log writes only these two.
    outcome: event.outcome as AuditEventView['outcome'],
    actor: event.actor,
    client_id: event.clientId,
    subject: event.subject,
    grant_id: event.grantId,
    source_ip: event.sourceIp,
    request_id: event.requestId,
    // The audit log writes objects only (src/audit/types.ts).
    details: (event.details ?? {}) as AuditEventView['details'],
    count: event.count,
    first_at: event.firstAt?.toISOString() ?? null,
    last_at: event.lastAt?.toISOString() ?? null,
  };
}

export const pruneAuditInput = z.strictObject({
  older_than_days: z.number().int().min(1).max(36500).describe('Events older than this many days are deleted.'),
});

export const pruneResultSchema = z.strictObject({ deleted: z.number().int().describe('How many events were deleted.') });

/** Deletes events older than `retentionDays` (0 keeps everything); returns how many went. */
export async function pruneAuditEvents(db: Database, retentionDays: number, now = new Date()): Promise<number> {
  if (retentionDays <= 0) return 0;
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const { count } = await db.prisma.auditEvent.deleteMany({ where: { time: { lt: cutoff } } });
  return count;
}

/** Prunes now and every `intervalMs`; returns the function that stops it. */
export function scheduleAuditPrune(db: Database, retentionDays: number, intervalMs: number, onDone: (err: unknown, count?: number) => void): () => void {
  if (retentionDays <= 0) return () => {};
  const run = () => pruneAuditEvents(db, retentionDays).then((count) => onDone(undefined, count), onDone);
  const first = setTimeout(run, 1000).unref();
  const timer = setInterval(run, intervalMs).unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}

/** Counts of what the dashboard draws, per bucket of time: occurrences, so a row's count is summed. */
export interface AuditActivity {
  /** Access tokens issued and refreshed. */
  issued: number[];
  introspected: number[];
  /** Every event that failed: refused token requests, sign-ins, admin requests... */
  failures: number[];
}

/**
 * The trail's activity in `buckets` consecutive buckets of `bucketSeconds` from `since`, counted
 * by the database in one statement over the time index.
 */
export async function auditActivity(db: Database, since: Date, bucketSeconds: number, buckets: number): Promise<AuditActivity> {
  const from = since.getTime() / 1000;
  const until = from + bucketSeconds * buckets;
  // `time` is UTC without a zone, as Prisma writes it.
  const rows = await db.sql(
    'audit_activity',
    `SELECT floor((extract(epoch FROM time) - $1) / $2)::int AS bucket,
            coalesce(sum(count) FILTER (WHERE type IN ('token.issued', 'token.refreshed') AND outcome = 'success'), 0)::int AS issued,
            coalesce(sum(count) FILTER (WHERE type = 'token.introspected'), 0)::int AS introspected,
            coalesce(sum(count) FILTER (WHERE outcome = 'failure'), 0)::int AS failures
       FROM audit_events
      WHERE time >= (to_timestamp($1) AT TIME ZONE 'UTC') AND time < (to_timestamp($3) AT TIME ZONE 'UTC')
      GROUP BY 1`,
    [from, bucketSeconds, until],
  );
  const activity: AuditActivity = { issued: Array(buckets).fill(0), introspected: Array(buckets).fill(0), failures: Array(buckets).fill(0) };
  for (const row of rows) {
    const bucket = Number(row.bucket);
    if (bucket < 0 || bucket >= buckets) continue;
    activity.issued[bucket] = Number(row.issued);
    activity.introspected[bucket] = Number(row.introspected);
    activity.failures[bucket] = Number(row.failures);
  }
  return activity;
}
