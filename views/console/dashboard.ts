import { html, type SafeHtml } from '../html.js';
import { barChart, type Series } from './charts.js';

export interface DashboardRange {
  /** In the address: ?range=… */
  name: string;
  /** "the last 24 hours" */
  period: string;
  title: string;
}

export interface DashboardProps {
  base: string;
  ranges: readonly DashboardRange[];
  range: DashboardRange;
  starts: Date[];
  /** How a bucket's start is shown: a time of day, or a date. */
  label: (start: Date) => string;
  series: Series[];
}

export function dashboardView({ base, ranges, range, starts, label, series }: DashboardProps): SafeHtml {
  return html`<h1>Dashboard</h1>
<nav class="actions" aria-label="Period">
${ranges.map((r) => (r === range ? html`<span class="tag">${r.title}</span>` : html`<a href="${base}/?range=${r.name}">${r.title}</a>`))}
</nav>
<div class="charts">
${series.map((s) => barChart({ series: s, starts, label, period: range.period }))}
</div>
<p class="muted">From the audit trail; refused requests (429) from this instance's metrics since it started. Times are UTC.</p>`;
}
