import type { z } from 'zod';
import type { consentViewSchema, userViewSchema } from '../../src/users/views.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice, problem, when } from './clients.js';

type UserView = z.output<typeof userViewSchema>;
type ConsentView = z.output<typeof consentViewSchema>;
type Values = Record<string, string | string[]>;

const state = (user: UserView) =>
  html`${user.disabled ? html`<span class="tag off">disabled</span>` : html`<span class="tag">enabled</span>`}${user.admin ? html` <span class="tag">admin</span>` : ''}`;

export function userListView({ base, users, next, message }: { base: string; users: UserView[]; next?: string; message?: string }): SafeHtml {
  return html`<h1>Users</h1>
${notice(message)}
<p class="actions"><a class="button primary" href="${base}/users/new">Create a user</a></p>
<table>
<thead><tr><th scope="col">Username</th><th scope="col">Email</th><th scope="col">State</th><th scope="col">Created</th></tr></thead>
<tbody>
${users.map(
  (user) => html`<tr>
<td><a href="${base}/users/${user.id}">${user.username}</a></td>
<td>${user.email ?? html`<span class="muted">none</span>`}</td>
<td>${state(user)}</td>
<td>${when(user.created_at)}</td>
</tr>\n`,
)}</tbody>
</table>
${next ? html`<nav class="pager" aria-label="Pages"><a href="${base}/users?cursor=${encodeURIComponent(next)}">Next page</a></nav>` : ''}`;
}

export function userFormView({ base, csrf, values, error }: { base: string; csrf: string; values: Values; error?: string }): SafeHtml {
  const value = (name: string) => String(values[name] ?? '');
  return html`<h1>Create a user</h1>
${problem(error)}
<form method="post" action="${base}/users" class="fields" novalidate>
${csrfField(csrf)}
<div class="field">
<label for="username">Username</label>
<input id="username" name="username" type="text" maxlength="64" autocomplete="off" spellcheck="false" value="${value('username')}">
</div>
<div class="field">
<label for="email">Email</label>
<input id="email" name="email" type="email" maxlength="254" value="${value('email')}">
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" maxlength="256">
<span class="hint">At least 8 characters.</span>
</div>
<label class="check"><input type="checkbox" name="admin" value="yes"${values.admin === 'yes' ? html` checked` : ''}> Administrator (may use this console)</label>
<p class="actions"><button type="submit" class="primary">Create</button> <a href="${base}/users">Cancel</a></p>
</form>`;
}

export function userDetailView({ base, user, consents, csrf, message, error, self }: { base: string; user: UserView; consents: ConsentView[]; csrf: string; message?: string; error?: string; self: boolean }): SafeHtml {
  const path = `${base}/users/${user.id}`;
  return html`<h1>User ${user.username}</h1>
${notice(message)}
${problem(error)}
<div class="panel">
<dl class="facts">
<dt>Id</dt><dd><code>${user.id}</code></dd>
<dt>Email</dt><dd>${user.email ?? html`<span class="muted">none</span>`}</dd>
<dt>State</dt><dd>${state(user)}</dd>
<dt>Created</dt><dd>${when(user.created_at)}</dd>
<dt>Updated</dt><dd>${when(user.updated_at)}</dd>
</dl>
</div>
${self
  ? html`<p class="lead">This is you: another administrator can disable you or take your admin role.</p>`
  : html`<div class="actions">
<form method="post" action="${path}/enabled"${user.disabled ? '' : html` data-confirm="Disable ${user.username}? Their sessions and tokens end at once."`}>
${csrfField(csrf)}
<input type="hidden" name="enabled" value="${user.disabled ? 'yes' : 'no'}">
<button type="submit" class="secondary">${user.disabled ? 'Enable' : 'Disable'}</button>
</form>
<form method="post" action="${path}/admin">
${csrfField(csrf)}
<input type="hidden" name="admin" value="${user.admin ? 'no' : 'yes'}">
<button type="submit" class="secondary">${user.admin ? 'Remove admin role' : 'Make administrator'}</button>
</form>
</div>`}
<h2>Reset the password</h2>
<form method="post" action="${path}/password" class="fields panel">
${csrfField(csrf)}
<div class="field">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" maxlength="256">
<span class="hint">At least 8 characters. The user's browser sign-ins end; their applications' tokens stay.</span>
</div>
<p><button type="submit" class="primary">Set password</button></p>
</form>
<h2>Consents</h2>
${consents.length
  ? html`<table>
<thead><tr><th scope="col">Client</th><th scope="col">Scopes</th><th scope="col">Since</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
<tbody>
${consents.map(
  (consent) => html`<tr>
<td><a href="${base}/clients/${encodeURIComponent(consent.client_id)}"><code>${consent.client_id}</code></a></td>
<td><code>${consent.scope}</code></td>
<td>${when(consent.created_at)}</td>
<td><form method="post" action="${path}/consents/${encodeURIComponent(consent.client_id)}/revoke" data-confirm="Revoke the consent to ${consent.client_id}? The tokens it allowed stop working.">
${csrfField(csrf)}
<button type="submit" class="link">Revoke</button>
</form></td>
</tr>\n`,
)}</tbody>
</table>`
  : html`<p class="muted">No remembered consents.</p>`}
<p><a href="${base}/audit?subject=${user.id}">Audit events of this user</a></p>`;
}
