// The audit trail, newest first: filters by client, user, event type, outcome and time range,
// a page at a time, read with GET /admin/audit's schema and query.
import { auditView, type AuditFilters } from '../../../views/console/audit.js';
import { listAuditEvents, listAuditInput } from '../../audit/query.js';
import { AUDIT_TYPES } from '../../audit/types.js';
import { invalidRequest } from '../../http/errors.js';
import { parseInput } from '../../http/validate.js';
import { USER_ID_PATTERN } from '../../users/schema.js';
import { fixable, withCursor } from '../forms.js';
import type { ConsolePage } from '../page.js';

const PAGE_SIZE = 50;
/** What a datetime-local field sends: a minute (or second) without a zone, read as UTC. */
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

const instant = (value: string | undefined) => (value && LOCAL_TIME.test(value) ? `${value.length === 16 ? `${value}:00` : value}Z` : value);

export const auditPage: ConsolePage = {
  title: 'Audit trail',
  path: '/audit',
  routes(router, { db, audit, users, render, base }) {
    /** A user is named by id (as events record them) or, for people, by username or email. */
    async function subjectOf(user: string | undefined): Promise<string | undefined> {
      if (!user || USER_ID_PATTERN.test(user)) return user;
      const found = await users.find(user).catch(() => undefined);
      if (!found) throw invalidRequest(`user: no user ${user}`, 'user');
      return found.id;
    }

    router.get('/audit', async (ctx) => {
      const one = (name: string) => (typeof ctx.query[name] === 'string' && ctx.query[name] ? (ctx.query[name] as string).trim() : undefined);
      const filters: AuditFilters = {
        client_id: one('client_id'),
        user: one('user') ?? one('subject'),
        type: one('type'),
        outcome: one('outcome'),
        since: one('since'),
        until: one('until'),
      };
      try {
        const subject = await subjectOf(filters.user);
        const input = parseInput(listAuditInput, {
          client_id: filters.client_id,
          subject,
          type: filters.type,
          outcome: filters.outcome,
          since: instant(filters.since),
          until: instant(filters.until),
          limit: PAGE_SIZE,
          cursor: one('cursor'),
        });
        // What this instance has queued is written first, so the page shows what was just done.
        await audit.flush();
        const { events, nextCursor } = await listAuditEvents(db, input);
        const next = nextCursor ? withCursor({ ...filters }, nextCursor) : undefined;
        render(ctx, { title: 'Audit trail', body: auditView({ base, filters, types: AUDIT_TYPES, events, next }) });
      } catch (err) {
        const refused = fixable(err);
        render(ctx, {
          title: 'Audit trail',
          status: refused.status,
          body: auditView({ base, filters, types: AUDIT_TYPES, events: [], error: refused.description }),
        });
      }
    });
  },
};
