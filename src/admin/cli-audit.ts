// `audit …` commands: read the audit trail as GET /admin/audit does, and prune it by age.
import { listAuditInput, pruneAuditInput } from '../audit/query.js';
import { integer, pageOptions, validate, type CommandFamily } from './cli-kit.js';

export const auditCommands: CommandFamily = {
  name: 'audit',
  title: 'Audit trail',
  flags: {
    type: ['--type'],
    client_id: ['--client'],
    subject: ['--subject'],
    actor: ['--actor'],
    grant_id: ['--grant'],
    outcome: ['--outcome'],
    since: ['--since'],
    until: ['--until'],
    limit: ['--limit'],
    cursor: ['--cursor'],
    older_than_days: ['--older-than-days'],
  },
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
        const query = validate(listAuditInput, {
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
        }) as Record<string, string>;
        return (api) => api({ method: 'GET', path: '/audit', query });
      },
    },
    prune: {
      description: 'Deletes audit events older than N days and prints how many.',
      options: { 'older-than-days': { type: 'string', value: 'N', required: true, help: 'age in days, 1-36500' } },
      prepare(_args, values) {
        const body = validate(pruneAuditInput, { older_than_days: integer(values['older-than-days']) });
        return (api) => api({ method: 'POST', path: '/audit/prune', body });
      },
    },
  },
};
