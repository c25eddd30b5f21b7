// GET /console/: tokens issued, introspections, failures and refused requests (429) over time,
// drawn as charts: the first three from the audit trail, the last from the metrics.
import { dashboardView, type DashboardRange } from '../../../views/console/dashboard.js';
import { auditActivity } from '../../audit/query.js';
import { invalidRequest } from '../../http/errors.js';
import type { ConsolePage } from '../page.js';

interface Range extends DashboardRange {
  bucketSeconds: number;
  buckets: number;
}

const RANGES: readonly Range[] = [
  { name: 'hour', title: 'Last hour', period: 'the last hour', bucketSeconds: 300, buckets: 12 },
  { name: 'day', title: 'Last 24 hours', period: 'the last 24 hours', bucketSeconds: 3600, buckets: 24 },
  { name: 'week', title: 'Last 7 days', period: 'the last 7 days', bucketSeconds: 86_400, buckets: 7 },
];

export const dashboardPage: ConsolePage = {
  title: 'Dashboard',
  path: '/',
  routes(router, { db, audit, refusals, render, base }) {
    router.get('/', async (ctx) => {
      const name = ctx.query.range ?? 'day';
      const range = RANGES.find((r) => r.name === name);
      if (!range) throw invalidRequest(`range: must be one of ${RANGES.map((r) => r.name).join(', ')}`, 'range');
      const bucketMs = range.bucketSeconds * 1000;
      // Whole buckets, the last one holding now.
      const since = (Math.floor(Date.now() / bucketMs) + 1 - range.buckets) * bucketMs;
      const starts = Array.from({ length: range.buckets }, (_, i) => new Date(since + i * bucketMs));
      await audit.flush();
      const [activity] = await Promise.all([auditActivity(db, new Date(since), range.bucketSeconds, range.buckets), refusals.sample(Date.now(), true)]);
      const label = range.bucketSeconds < 86_400 ? (start: Date) => start.toISOString().slice(11, 16) : (start: Date) => start.toISOString().slice(5, 10);
      const series = [
        { title: 'Tokens issued', values: activity.issued, colour: 's1' as const },
        { title: 'Introspections', values: activity.introspected, colour: 's2' as const },
        { title: 'Failures', values: activity.failures, colour: 's3' as const },
        { title: 'Refused requests (429)', values: refusals.growth(since, bucketMs, range.buckets), colour: 's4' as const },
      ];
      render(ctx, { title: 'Dashboard', body: dashboardView({ base, ranges: RANGES, range, starts, label, series }) });
    });
  },
};
