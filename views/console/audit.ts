import type { z } from 'zod';
import type { auditEventSchema } from '../../src/audit/query.js';
import { html, type SafeHtml } from '../html.js';
import { problem, when } from './clients.js';

type AuditEventView = z.output<typeof auditEventSchema>;

export interface AuditFilters {
  client_id?: string;
  user?: string;
  type?: string;
  outcome?: string;
  since?: string;
  until?: string;
}

export function auditView({ base, filters, types, events, next, error }: { base: string; filters: AuditFilters; types: readonly string[]; events: AuditEventView[]; next?: string; error?: string }): SafeHtml {
  const field = (name: keyof AuditFilters, label: string, type = 'text') =>
    html`<div class="field"><label for="${name}">${label}</label><input id="${name}" name="${name}" type="${type}" value="${filters[name] ?? ''}" spellcheck="false"></div>`;
  return html`<h1>Audit trail</h1>
<form method="get" action="${base}/audit" class="filters" role="search">
${field('client_id', 'Client')}
${field('user', 'User (name or id)')}
<div class="field"><label for="type">Event type</label>
<select id="type" name="type">
<option value="">any</option>
${types.map((type) => html`<option value="${type}"${filters.type === type ? html` selected` : ''}>${type}</option>\n`)}</select></div>
<div class="field"><label for="outcome">Outcome</label>
<select id="outcome" name="outcome">
${['', 'success', 'failure'].map((outcome) => html`<option value="${outcome}"${(filters.outcome ?? '') === outcome ? html` selected` : ''}>${outcome || 'any'}</option>\n`)}</select></div>
${field('since', 'From (UTC)', 'datetime-local')}
${field('until', 'Until (UTC)', 'datetime-local')}
<button type="submit" class="primary">Filter</button>
<a href="${base}/audit">Clear</a>
</form>
${problem(error)}
${events.length
  ? html`<table>
<thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Actor</th><th scope="col">Client</th><th scope="col">Subject</th><th scope="col">From</th><th scope="col">Details</th></tr></thead>
<tbody>
${events.map(
  (event) => html`<tr>
<td>${when(event.time)}</td>
<td><code>${event.type}</code>${event.outcome === 'failure' ? html` <span class="tag off">failure</span>` : ''}${event.count > 1 ? html` <span class="tag" title="${`${event.count} from ${event.first_at} to ${event.last_at}`}">×${event.count}</span>` : ''}</td>
<td>${event.actor ?? ''}</td>
<td>${event.client_id ? html`<a href="${base}/audit?client_id=${encodeURIComponent(event.client_id)}">${event.client_id}</a>` : ''}</td>
<td>${event.subject ?? ''}</td>
<td>${event.source_ip ?? ''}</td>
<td>${Object.keys(event.details).length ? html`<code>${JSON.stringify(event.details)}</code>` : ''}</td>
</tr>\n`,
)}</tbody>
</table>`
  : html`<p class="muted">No events match.</p>`}
<nav class="pager" aria-label="Pages">
${next ? html`<a href="${base}/audit${next}">Older events</a>` : ''}
</nav>`;
}
