// `audit …` commands: read the audit trail as GET /admin/audit does, and prune it by age.
import { hostname, userInfo } from 'node:os';
import { listAuditEvents, listAuditInput, pruneAuditEvents } from '../audit/query.js';
import type { Database } from '../db/database.js';
import { integer, pageOptions, UsageError, validate, type CommandFamily } from './cli-kit.js';

const FLAGS: Record<string, string> = {
  type: '--type',
  client_id: '--client',
  subject: '--subject',
  actor: '--actor',
  grant_id: '--grant',
  outcome: '--outcome',
  since: '--since',
  until: '--until',
  limit: '--limit',
  cursor: '--cursor',
};

export const auditCommands: CommandFamily = {
  name: 'audit',
  title: 'Audit trail',
  commands: {
    list: {
      description: 'Lists audit events, newest first, a page at a time.',
      options: {
        type: { type: 'string', value: 'T[,T…]', help: 'event types, comma-separated (e.g. client.created,token.issued)' },
        client: { type: 'string', value: 'ID', help: 'events of this client' },
        subject: { type: 'string', value: 'SUB', help: 'events of this user (subject)' },
        actor: { type: 'string', value: 'ID', help: 'events of this actor (an admin client, or cli:user@host)' },
        grant: { type: 'string', value: 'ID', help: 'events of this grant' },
        outcome: { type: 'string', value: 'success|failure', help: 'only successes or only failures' },
        since: { type: 'string', value: 'ISO-8601', help: 'events at or after this time' },
        until: { type: 'string', value: 'ISO-8601', help: 'events before this time' },
        ...pageOptions(500, 100, 'C'),
      },
      prepare(_args, values) {
        const input = validate(
          listAuditInput,
          {
            type: values.type,
            client_id: values.client,
            subject: values.subject,
            actor: values.actor,
            grant_id: values.grant,
            outcome: values.outcome,
            since: values.since,
            until: values.until,
            limit: values.limit,
            cursor: values.cursor,
          },
          FLAGS,
        );
        return async ({ db }) => {
          const { events, nextCursor } = await listAuditEvents(db, input);
          return { events, next_cursor: nextCursor };
        };
      },
    },
    prune: {
      description: 'Deletes audit events older than N days and prints how many.',
      options: { 'older-than-days': { type: 'string', value: 'N', required: true, help: 'age in days, 1-36500' } },
      prepare(_args, values) {
        const days = integer(values['older-than-days']);
        if (typeof days !== 'number' || days < 1 || days > 36500) throw new UsageError('audit prune: --older-than-days must be a whole number of days, 1-36500');
        return async ({ db }) => {
          const deleted = await pruneAuditEvents(db, days);
          await recordCliAction(db, 'audit.pruned', undefined, { older_than_days: days, deleted });
          return { deleted };
        };
      },
    },
  },
};

/** The audit event of each CLI command that changes something, as the admin API records it; reads have none. */
const CHANGES: Record<string, string> = {
  'client create': 'client.created',
  'client update': 'client.updated',
  'client delete': 'client.deleted',
  'client rotate-secret': 'client.secret_rotated',
  'user create': 'user.created',
  'user update': 'user.updated',
  'user delete': 'user.deleted',
  'user revoke-consent': 'user.consent_revoked',
  'resource-server create': 'resource_server.created',
  'resource-server update': 'resource_server.updated',
  'resource-server delete': 'resource_server.deleted',
  // Recorded by the command itself: `routes get` changes nothing.
  'resource-server routes set': 'resource_server.routes_updated',
  'keys rotate': 'keys.rotated',
};

/**
 * Changes made with the CLI are admin actions too: recorded directly (the CLI has no queue), with
 * the operating-system user as the actor.
 */
export async function recordCliChange(db: Database, family: string, command: string, output: unknown): Promise<void> {
  const type = CHANGES[`${family} ${command}`];
  if (!type) return;
  const printed = (output ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  // Like the admin API's events: a user change names the user as its subject, and the client a consent was for.
  const subject = family === 'user' ? text(printed.user_id ?? printed.id) : undefined;
  const resourceServer = family === 'resource-server' ? text(printed.id) : undefined;
  await recordCliAction(db, type, text(printed.client_id), { command: `${family} ${command}`, ...(resourceServer ? { resource_server_id: resourceServer } : {}) }, subject);
}

async function recordCliAction(db: Database, type: string, clientId: string | undefined, details: Record<string, string | number>, subject?: string): Promise<void> {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): the host name still says where it ran
  }
  await db.prisma.auditEvent.create({
    data: { type, outcome: 'success', actor: `cli:${user}@${hostname()}`.slice(0, 256), clientId: clientId ?? null, subject: subject ?? null, details },
  });
}
