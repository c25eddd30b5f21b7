// Helpers for the operations tests (audit trail, rate limits, metrics, faults).
import { admin, adminToken } from './oauth.js';
import { TEST_METRICS_TOKEN } from './tollgate.js';

export interface AuditEventView {
  id: string;
  time: string;
  type: string;
  outcome: string;
  actor: string | null;
  client_id: string | null;
  subject: string | null;
  grant_id: string | null;
  source_ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  count: number;
  first_at: string | null;
  last_at: string | null;
}

/** GET /admin/audit with the given filters; throws unless 200. */
export async function auditEvents(base: string, query: Record<string, string> = {}, token?: string) {
  const response = await admin(base, 'GET', `/audit?${new URLSearchParams(query)}`, undefined, token ?? (await adminToken(base)));
  if (response.status !== 200) throw new Error(`GET /admin/audit: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as unknown as { events: AuditEventView[]; next_cursor?: string };
}

/** Prometheus text → the value of one sample (labels in any order), or undefined. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).match(/^\{(.*)\}/)?.[1] ?? '';
    const parsed = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => parsed[k] === v)) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

/** GET /metrics on the main port (with the test servers' METRICS_TOKEN); throws unless 200. */
export async function metricsText(base: string): Promise<string> {
  const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TEST_METRICS_TOKEN}` } });
  if (response.status !== 200) throw new Error(`GET /metrics: ${response.status} ${await response.text()}`);
  return response.text();
}
