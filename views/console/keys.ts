import type { KeyView } from '../../src/keys/store.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice, problem, when } from './clients.js';

const date = (iso: string | null) => (iso ? when(iso) : html`<span class="muted">–</span>`);

/** The provider's keys (public facts only) and the form that starts a rotation. */
export function keyListView({ base, keys, csrf, message, error }: { base: string; keys: KeyView[]; csrf: string; message?: string; error?: string }): SafeHtml {
  return html`<h1>Keys</h1>
${notice(message)}
${problem(error)}
<p class="lead">The keys that sign tokens and cookies. A rotation publishes new keys at once; they start signing once caches of the JWKS have expired, and the keys they replace stay published until what they signed has expired.</p>
<form method="post" action="${base}/keys/rotate" class="actions" data-confirm="Start a key rotation? New keys are published now and sign after the JWKS cache time.">
${csrfField(csrf)}
<button type="submit" class="primary">Start a rotation</button>
</form>
<table>
<thead><tr><th scope="col">Key id</th><th scope="col">Kind</th><th scope="col">Algorithm</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Signs from</th><th scope="col">Retired</th><th scope="col">Removed</th></tr></thead>
<tbody>
${keys.map(
  (key) => html`<tr>
<td><code>${key.kid}</code></td>
<td>${key.kind}</td>
<td>${key.alg ?? html`<span class="muted">–</span>`}</td>
<td><span class="tag${key.state === 'previous' ? ' off' : ''}">${key.state}</span></td>
<td>${date(key.created_at)}</td>
<td>${date(key.activates_at)}</td>
<td>${date(key.retired_at)}</td>
<td>${date(key.expires_at)}</td>
</tr>\n`,
)}</tbody>
</table>`;
}
