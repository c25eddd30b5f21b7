import { html } from './html.js';
import { layout, type PageProps } from './layout.js';

export interface ScopeLine {
  /** The scope as the application asked for it. */
  name: string;
  /** What it means to a person, when Tollgate knows. */
  description?: string;
}

export interface ConsentProps extends PageProps {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  username: string;
  scopes: ScopeLine[];
  /** Set when the application gets a refresh token: how long at most it may stay signed in. */
  offlineFor?: string;
}

export function consentPage({ action, abortAction, csrf, clientName, username, scopes, offlineFor, root }: ConsentProps): string {
  return layout({
    root,
    title: 'Allow access',
    body: html`<h1>Allow access?</h1>
<p class="lead"><strong>${clientName}</strong> would like to access your account.</p>
<p class="account">Signed in as <strong>${username}</strong></p>
${scopes.length
  ? html`<h2 class="list-title">It asks to:</h2>
<ul class="scopes">
${scopes.map((scope) => html`<li>${scope.description ? html`${scope.description} <code>${scope.name}</code>` : html`Use <code>${scope.name}</code>`}</li>\n`)}</ul>`
  : html`<p>It asks for no specific permissions.</p>`}
${offlineFor ? html`<p class="note">It will stay signed in for up to ${offlineFor} unless you or an administrator end its access earlier.</p>` : ''}
<form method="post" action="${action}" class="stack">
  <input type="hidden" name="csrf" value="${csrf}">
  <div class="checkbox">
    <input id="remember" name="remember" type="checkbox" value="yes" checked>
    <label for="remember">Remember my decision for this application</label>
  </div>
  <div class="buttons">
    <button type="submit" name="decision" value="allow" class="primary" autofocus>Allow</button>
    <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
  </div>
</form>
<form method="post" action="${abortAction}" class="secondary-action">
  <input type="hidden" name="csrf" value="${csrf}">
  <button type="submit" class="link">Cancel and return to the application</button>
</form>`,
  });
}
