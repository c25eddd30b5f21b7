import type { ClientView } from '../../src/clients/views.js';
import { SUPPORTED_GRANT_TYPES, TOKEN_ENDPOINT_AUTH_METHODS } from '../../src/clients/schema.js';
import { html, SafeHtml } from '../html.js';

export type Values = Record<string, string | string[]>;
export const valueOf = (values: Values, name: string) => {
  const value = values[name];
  return Array.isArray(value) ? value.join('\n') : (value ?? '');
};
export const has = (values: Values, name: string, option: string) => {
  const value = values[name];
  return Array.isArray(value) ? value.includes(option) : value === option;
};

export const csrfField = (csrf: string) => html`<input type="hidden" name="csrf" value="${csrf}">`;
export const notice = (message: string | undefined) => (message ? html`<p class="notice" role="status">${message}</p>` : '');
export const problem = (message: string | undefined) => (message ? html`<p class="alert" role="alert">${message}</p>` : '');
/** A labelled text or number input with an optional hint. */
export function textField({ name, label, values, hint, type = 'text', attributes }: { name: string; label: string; values: Values; hint?: string; type?: 'text' | 'number'; attributes?: Record<string, string> }): SafeHtml {
  return html`<div class="field">
<label for="${name}">${label}</label>
<input id="${name}" name="${name}" type="${type}" value="${valueOf(values, name)}"${Object.entries(attributes ?? {}).map(([attribute, value]) => html` ${new SafeHtml(attribute)}="${value}"`)}>
${hint ? html`<span class="hint">${hint}</span>` : ''}
</div>`;
}

export const when = (iso: string) => html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>`;

export function clientListView({ base, clients, next, message }: { base: string; clients: ClientView[]; next?: string; message?: string }): SafeHtml {
  return html`<h1>Clients</h1>
${notice(message)}
<p class="actions"><a class="button primary" href="${base}/clients/new">Register a client</a></p>
<table>
<thead><tr><th scope="col">Client</th><th scope="col">Grant types</th><th scope="col">Scopes</th><th scope="col">Authentication</th><th scope="col">State</th></tr></thead>
<tbody>
${clients.map(
  (client) => html`<tr>
<td><a href="${base}/clients/${encodeURIComponent(client.client_id)}"><code>${client.client_id}</code></a>${client.client_name ? html`<br><span class="muted">${client.client_name}</span>` : ''}</td>
<td>${client.grant_types.join(', ')}</td>
<td>${client.scope ? html`<code>${client.scope}</code>` : html`<span class="muted">none</span>`}</td>
<td>${client.token_endpoint_auth_method}${client.resource_server ? html` <span class="tag">resource server</span>` : ''}</td>
<td>${client.disabled ? html`<span class="tag off">disabled</span>` : html`<span class="tag">enabled</span>`}</td>
</tr>\n`,
)}</tbody>
</table>
${next ? html`<nav class="pager" aria-label="Pages"><a href="${base}/clients?cursor=${encodeURIComponent(next)}">Next page</a></nav>` : ''}`;
}

export function clientDetailView({ base, client, actsFor, csrf, message, builtIn }: { base: string; client: ClientView; actsFor?: string; csrf: string; message?: string; builtIn: boolean }): SafeHtml {
  const path = `${base}/clients/${encodeURIComponent(client.client_id)}`;
  const optional = (value: number | undefined) => (value === undefined ? html`<span class="muted">default</span>` : `${value} s`);
  return html`<h1>Client <code>${client.client_id}</code></h1>
${notice(message)}
${builtIn ? html`<p class="lead">The console's own sign-in client: it cannot be changed or deleted.</p>` : html`<div class="actions">
<a class="button" href="${path}/edit">Edit</a>
<form method="post" action="${path}/enabled"${client.disabled ? '' : html` data-confirm="Disable ${client.client_id}? Its tokens stop working at once."`}>
${csrfField(csrf)}
<input type="hidden" name="enabled" value="${client.disabled ? 'yes' : 'no'}">
<button type="submit" class="secondary">${client.disabled ? 'Enable' : 'Disable'}</button>
</form>
<a class="button" href="${path}/delete">Delete…</a>
</div>`}
<div class="panel">
<dl class="facts">
<dt>Name</dt><dd>${client.client_name ?? html`<span class="muted">none</span>`}</dd>
<dt>State</dt><dd>${client.disabled ? html`<span class="tag off">disabled</span>` : html`<span class="tag">enabled</span>`}</dd>
<dt>Grant types</dt><dd>${client.grant_types.join(', ')}</dd>
<dt>Scopes</dt><dd>${client.scope ? html`<code>${client.scope}</code>` : html`<span class="muted">none</span>`}</dd>
<dt>Default scopes</dt><dd>${client.default_scope ? html`<code>${client.default_scope}</code>` : html`<span class="muted">none</span>`}</dd>
<dt>Redirect URIs</dt><dd>${client.redirect_uris.length ? client.redirect_uris.map((uri) => html`<code>${uri}</code><br>`) : html`<span class="muted">none</span>`}</dd>
<dt>Authentication</dt><dd>${client.token_endpoint_auth_method}</dd>
<dt>Resource server</dt><dd>${client.resource_server ? 'yes: may introspect any token' : 'no'}</dd>
<dt>Acts for</dt><dd>${client.resource_server_id ? html`<a href="${base}/resource-servers/${encodeURIComponent(client.resource_server_id)}"><code>${actsFor ?? client.resource_server_id}</code></a>` : html`<span class="muted">no resource server</span>`}</dd>
<dt>DPoP-bound tokens</dt><dd>${client.dpop_bound_access_tokens ? 'required' : 'no'}</dd>
<dt>Access token lifetime</dt><dd>${optional(client.access_token_ttl)}</dd>
<dt>Refresh token idle / absolute</dt><dd>${optional(client.refresh_token_idle_ttl)} / ${optional(client.refresh_token_absolute_ttl)}</dd>
${client.previous_secret_expires_at ? html`<dt>Previous secret</dt><dd>works until ${when(client.previous_secret_expires_at)}</dd>` : ''}
<dt>Created</dt><dd>${when(client.created_at)}</dd>
<dt>Updated</dt><dd>${when(client.updated_at)}</dd>
</dl>
</div>
${client.token_endpoint_auth_method !== 'none' && !builtIn
  ? html`<h2>Rotate the secret</h2>
<form method="post" action="${path}/secret" class="fields panel" data-confirm="Issue a new secret for ${client.client_id}?">
${csrfField(csrf)}
<div class="field">
<label for="overlap_seconds">Keep the old secret working for (seconds)</label>
<input id="overlap_seconds" name="overlap_seconds" type="number" min="0" max="604800" value="3600">
<span class="hint">So deployments can switch over; 0 ends it at once (at most 7 days).</span>
</div>
<p><button type="submit" class="primary">Rotate secret</button></p>
</form>`
  : ''}
<p><a href="${base}/audit?client_id=${encodeURIComponent(client.client_id)}">Audit events of this client</a></p>`;
}

/** A resource server a client may act for, as the form offers it. */
export interface LinkableServer {
  id: string;
  label: string;
}

/** The registration and edit form; `values` are the client's fields or what was typed. */
export function clientFormView({ base, csrf, values, servers, error, editing }: { base: string; csrf: string; values: Values; servers: LinkableServer[]; error?: string; editing?: string }): SafeHtml {
  const action = editing ? `${base}/clients/${encodeURIComponent(editing)}` : `${base}/clients`;
  return html`<h1>${editing ? html`Edit client <code>${editing}</code>` : 'Register a client'}</h1>
${problem(error)}
<form method="post" action="${action}" class="fields" novalidate>
${csrfField(csrf)}
${editing
  ? ''
  : html`<div class="field">
<label for="client_id">Client id</label>
<input id="client_id" name="client_id" type="text" maxlength="64" value="${valueOf(values, 'client_id')}" autocomplete="off" spellcheck="false">
<span class="hint">Leave empty to have one generated.</span>
</div>`}
<div class="field">
<label for="client_name">Name</label>
<input id="client_name" name="client_name" type="text" maxlength="200" value="${valueOf(values, 'client_name')}">
</div>
<fieldset>
<legend>Grant types</legend>
${SUPPORTED_GRANT_TYPES.map(
  (grant) => html`<label class="check"><input type="checkbox" name="grant_types" value="${grant}"${has(values, 'grant_types', grant) ? html` checked` : ''}> ${grant}</label>\n`,
)}</fieldset>
<div class="field">
<label for="scope">Scopes it may request</label>
<input id="scope" name="scope" type="text" value="${valueOf(values, 'scope')}" spellcheck="false">
<span class="hint">Separated by spaces.</span>
</div>
<div class="field">
<label for="default_scope">Default scopes</label>
<input id="default_scope" name="default_scope" type="text" value="${valueOf(values, 'default_scope')}" spellcheck="false">
<span class="hint">Granted when a request names none; empty: all of the above.</span>
</div>
<div class="field">
<label for="redirect_uris">Redirect URIs</label>
<textarea id="redirect_uris" name="redirect_uris" spellcheck="false">${valueOf(values, 'redirect_uris')}</textarea>
<span class="hint">One per line; needed for authorization_code.</span>
</div>
<div class="field">
<label for="token_endpoint_auth_method">Authentication</label>
<select id="token_endpoint_auth_method" name="token_endpoint_auth_method">
${TOKEN_ENDPOINT_AUTH_METHODS.map((method) => html`<option value="${method}"${has(values, 'token_endpoint_auth_method', method) ? html` selected` : ''}>${method === 'none' ? 'none (public client, PKCE)' : method}</option>\n`)}</select>
</div>
<div class="field">
<label for="access_token_ttl">Access token lifetime (seconds)</label>
<input id="access_token_ttl" name="access_token_ttl" type="number" min="1" max="3600" value="${valueOf(values, 'access_token_ttl')}">
<span class="hint">Empty: the server's default.</span>
</div>
<div class="field">
<label for="resource_server_id">Acts for resource server</label>
<select id="resource_server_id" name="resource_server_id">
<option value="">none</option>
${servers.map((server) => html`<option value="${server.id}"${has(values, 'resource_server_id', server.id) ? html` selected` : ''}>${server.label}</option>\n`)}</select>
<span class="hint">It may then introspect the tokens issued for that resource server.</span>
</div>
<label class="check"><input type="checkbox" name="resource_server" value="yes"${has(values, 'resource_server', 'yes') ? html` checked` : ''}> Resource server (may introspect any token)</label>
<label class="check"><input type="checkbox" name="dpop_bound_access_tokens" value="yes"${has(values, 'dpop_bound_access_tokens', 'yes') ? html` checked` : ''}> Require DPoP-bound tokens</label>
<p class="actions"><button type="submit" class="primary">${editing ? 'Save changes' : 'Register'}</button> <a href="${editing ? `${base}/clients/${encodeURIComponent(editing)}` : `${base}/clients`}">Cancel</a></p>
</form>`;
}

/** The form's values for an existing client. */
export function clientFormValues(client: ClientView): Values {
  return {
    client_name: client.client_name ?? '',
    grant_types: client.grant_types,
    scope: client.scope,
    default_scope: client.default_scope,
    redirect_uris: client.redirect_uris,
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    access_token_ttl: client.access_token_ttl === undefined ? '' : String(client.access_token_ttl),
    resource_server: client.resource_server ? 'yes' : '',
    resource_server_id: client.resource_server_id ?? '',
    dpop_bound_access_tokens: client.dpop_bound_access_tokens ? 'yes' : '',
  };
}

/** A secret just issued: shown this once. */
export function clientSecretView({ base, client, secret, rotated }: { base: string; client: ClientView; secret?: string; rotated: boolean }): SafeHtml {
  return html`<h1>${rotated ? 'New secret for' : 'Registered'} <code>${client.client_id}</code></h1>
${secret
  ? html`<p class="alert" role="alert">Copy the secret now: it is shown only this once, and Tollgate keeps only its hash.</p>
<p class="secret"><code id="client-secret" data-copy>${secret}</code></p>`
  : html`<p class="notice" role="status">A public client has no secret: it signs users in with PKCE.</p>`}
${rotated && client.previous_secret_expires_at ? html`<p>The previous secret keeps working until ${when(client.previous_secret_expires_at)}.</p>` : ''}
<p><a class="button primary" href="${base}/clients/${encodeURIComponent(client.client_id)}">Done</a></p>`;
}

export function clientDeleteView({ base, client, csrf }: { base: string; client: ClientView; csrf: string }): SafeHtml {
  const path = `${base}/clients/${encodeURIComponent(client.client_id)}`;
  return html`<h1>Delete <code>${client.client_id}</code>?</h1>
<p class="alert" role="alert">Its tokens stop working at once, and its users' consents are forgotten. This cannot be undone.</p>
<form method="post" action="${path}/delete" class="actions">
${csrfField(csrf)}
<button type="submit" class="danger">Delete client</button>
<a href="${path}">Cancel</a>
</form>`;
}
