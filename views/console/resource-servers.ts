import { SIGNING_ALGS } from '../../src/crypto/signing-keys.js';
import { ACCESS_TOKEN_FORMATS } from '../../src/resource-servers/schema.js';
import type { ResourceServerView } from '../../src/resource-servers/views.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, has, notice, problem, textField, when, type Values } from './clients.js';

const pathOf = (base: string, id: string) => `${base}/resource-servers/${encodeURIComponent(id)}`;
const scopeList = (scopes: string[]) => (scopes.length ? html`<code>${scopes.join(' ')}</code>` : html`<span class="muted">none</span>`);
const lifetime = (ttl: number | undefined) => (ttl === undefined ? html`<span class="muted">default</span>` : `${ttl} s`);

export function resourceServerListView({ base, servers, next, message }: { base: string; servers: ResourceServerView[]; next?: string; message?: string }): SafeHtml {
  return html`<h1>Resource servers</h1>
${notice(message)}
<p class="lead">The APIs tokens are issued for: a client asks for one with <code>resource=</code> its identifier, and the token's <code>aud</code> is that identifier.</p>
<p class="actions"><a class="button primary" href="${base}/resource-servers/new">Add a resource server</a></p>
${servers.length
  ? html`<table>
<thead><tr><th scope="col">Resource server</th><th scope="col">Scopes</th><th scope="col">Tokens</th><th scope="col">Lifetime</th><th scope="col">DPoP</th></tr></thead>
<tbody>
${servers.map(
  (server) => html`<tr>
<td><a href="${pathOf(base, server.id)}">${server.name}</a><br><code class="muted">${server.identifier}</code></td>
<td>${scopeList(server.scopes)}</td>
<td>${server.access_token_format === 'jwt' ? `JWT (${server.signing_alg})` : 'opaque'}</td>
<td>${lifetime(server.access_token_ttl)}</td>
<td>${server.dpop_required ? html`<span class="tag">required</span>` : 'no'}</td>
</tr>\n`,
)}</tbody>
</table>`
  : html`<p class="muted">No resource servers yet.</p>`}
${next ? html`<nav class="pager" aria-label="Pages"><a href="${base}/resource-servers?cursor=${encodeURIComponent(next)}">Next page</a></nav>` : ''}`;
}

export function resourceServerDetailView({ base, server, message }: { base: string; server: ResourceServerView; message?: string }): SafeHtml {
  const path = pathOf(base, server.id);
  return html`<h1>Resource server ${server.name}</h1>
${notice(message)}
<div class="actions">
<a class="button" href="${path}/edit">Edit</a>
<a class="button" href="${path}/delete">Delete…</a>
</div>
<div class="panel">
<dl class="facts">
<dt>Identifier</dt><dd><code>${server.identifier}</code></dd>
<dt>Name</dt><dd>${server.name}</dd>
<dt>Scopes</dt><dd>${scopeList(server.scopes)}</dd>
<dt>Access tokens</dt><dd>${server.access_token_format === 'jwt' ? 'JWT (RFC 9068), checked locally' : 'opaque, checked by introspection'}</dd>
<dt>Signing algorithm</dt><dd>${server.signing_alg}</dd>
<dt>Access token lifetime</dt><dd>${lifetime(server.access_token_ttl)}</dd>
<dt>DPoP</dt><dd>${server.dpop_required ? 'required' : 'not required'}</dd>
<dt>Public base URL</dt><dd>${server.public_base_url ? html`<code>${server.public_base_url}</code>` : html`<span class="muted">none</span>`}</dd>
<dt>Id</dt><dd><code>${server.id}</code></dd>
<dt>Created</dt><dd>${when(server.created_at)}</dd>
<dt>Updated</dt><dd>${when(server.updated_at)}</dd>
</dl>
</div>
<p><a href="${base}/resource-servers">All resource servers</a></p>`;
}

/** The add and edit form; `values` are the server's fields or what was typed. `editing`: the id. */
export function resourceServerFormView({ base, csrf, values, error, editing }: { base: string; csrf: string; values: Values; error?: string; editing?: string }): SafeHtml {
  const action = editing ? pathOf(base, editing) : `${base}/resource-servers`;
  return html`<h1>${editing ? 'Edit resource server' : 'Add a resource server'}</h1>
${problem(error)}
<form method="post" action="${action}" class="fields" novalidate>
${csrfField(csrf)}
${textField({ name: 'identifier', label: 'Identifier', values, attributes: { maxlength: '2000', autocomplete: 'off', spellcheck: 'false' }, hint: 'An absolute URI without a fragment, e.g. https://api.example.com: what clients send as resource, and the tokens\' aud.' })}
${textField({ name: 'name', label: 'Name', values, attributes: { maxlength: '200' } })}
${textField({ name: 'scopes', label: 'Scopes', values, attributes: { spellcheck: 'false' }, hint: 'Separated by spaces; a token for it carries only these.' })}
<div class="field">
<label for="access_token_format">Access token format</label>
<select id="access_token_format" name="access_token_format">
${ACCESS_TOKEN_FORMATS.map((format) => html`<option value="${format}"${has(values, 'access_token_format', format) ? html` selected` : ''}>${format === 'jwt' ? 'jwt (RFC 9068)' : 'opaque'}</option>\n`)}</select>
</div>
<div class="field">
<label for="signing_alg">Signing algorithm</label>
<select id="signing_alg" name="signing_alg">
${SIGNING_ALGS.map((alg) => html`<option value="${alg}"${has(values, 'signing_alg', alg) ? html` selected` : ''}>${alg}</option>\n`)}</select>
<span class="hint">For JWT access tokens.</span>
</div>
${textField({ name: 'access_token_ttl', label: 'Access token lifetime (seconds)', values, type: 'number', attributes: { min: '1', max: '3600' }, hint: "Empty: the server's default. A client's own lifetime can only shorten it." })}
${textField({ name: 'public_base_url', label: 'Public base URL', values, attributes: { maxlength: '2000', spellcheck: 'false' }, hint: 'Optional: where clients reach the API when a gateway is forwarded to from elsewhere, e.g. https://api.example.com.' })}
<label class="check"><input type="checkbox" name="dpop_required" value="yes"${has(values, 'dpop_required', 'yes') ? html` checked` : ''}> Require DPoP-bound tokens</label>
<label class="check"><input type="checkbox" name="case_sensitive_paths" value="yes"${has(values, 'case_sensitive_paths', 'yes') ? html` checked` : ''}> The API tells paths apart by case (gateway rules compare paths exactly)</label>
<p class="actions"><button type="submit" class="primary">${editing ? 'Save changes' : 'Add'}</button> <a href="${editing ? pathOf(base, editing) : `${base}/resource-servers`}">Cancel</a></p>
</form>`;
}

/** The form's values for an existing resource server. */
export function resourceServerFormValues(server: ResourceServerView): Values {
  return {
    identifier: server.identifier,
    name: server.name,
    scopes: server.scopes.join(' '),
    access_token_format: server.access_token_format,
    signing_alg: server.signing_alg,
    access_token_ttl: server.access_token_ttl === undefined ? '' : String(server.access_token_ttl),
    dpop_required: server.dpop_required ? 'yes' : '',
    public_base_url: server.public_base_url ?? '',
    case_sensitive_paths: server.case_sensitive_paths ? 'yes' : '',
  };
}

export function resourceServerDeleteView({ base, server, csrf }: { base: string; server: ResourceServerView; csrf: string }): SafeHtml {
  const path = pathOf(base, server.id);
  return html`<h1>Delete ${server.name}?</h1>
<p class="alert" role="alert">Clients stop getting tokens for <code>${server.identifier}</code> at once, and clients linked to it lose the link. This cannot be undone.</p>
<form method="post" action="${path}/delete" class="actions">
${csrfField(csrf)}
<button type="submit" class="danger">Delete resource server</button>
<a href="${path}">Cancel</a>
</form>`;
}
