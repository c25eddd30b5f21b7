import { html } from './html.js';
import { layout, type PageProps } from './layout.js';

export interface LoginProps extends PageProps {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  /** What the user typed before, shown again after a failed attempt (never the password). */
  login?: string;
  error?: string;
}

export function loginPage({ action, abortAction, csrf, clientName, login, error, root }: LoginProps): string {
  const described = error ? 'login-error' : undefined;
  return layout({
    root,
    title: 'Sign in',
    body: html`<h1>Sign in</h1>
<p class="lead">to continue to <strong>${clientName}</strong></p>
${error ? html`<p class="alert" id="login-error" role="alert">${error}</p>` : ''}
<form method="post" action="${action}" class="stack" novalidate>
  <input type="hidden" name="csrf" value="${csrf}">
  <div class="field">
    <label for="login">Username or email</label>
    <input id="login" name="login" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="254" required value="${login ?? ''}"${login ? '' : html` autofocus`}${described ? html` aria-invalid="true" aria-describedby="${described}"` : ''}>
  </div>
  <div class="field">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" maxlength="256" required${login ? html` autofocus` : ''}${described ? html` aria-invalid="true" aria-describedby="${described}"` : ''}>
  </div>
  <button type="submit" class="primary">Sign in</button>
</form>
<form method="post" action="${abortAction}" class="secondary-action">
  <input type="hidden" name="csrf" value="${csrf}">
  <button type="submit" class="link">Cancel and return to the application</button>
</form>`,
  });
}
