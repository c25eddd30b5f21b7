import { html, type SafeHtml } from '../html.js';

export interface DashboardProps {
  username: string;
}

export function dashboardView({ username }: DashboardProps): SafeHtml {
  return html`<h1>Dashboard</h1>
<p class="lead">Signed in as <strong>${username}</strong>.</p>`;
}
