import { html } from './html.js';
import { layout } from './layout.js';

export interface ErrorProps {
  title: string;
  message: string;
  /** The OAuth error code, for whoever reports the problem. */
  code?: string;
}

export function errorPage({ title, message, code }: ErrorProps): string {
  return layout({
    title,
    body: html`<h1>${title}</h1>
<p class="alert" role="alert">${message}</p>
${code ? html`<p class="code">Error code: <code>${code}</code></p>` : ''}
<p>You can close this page and start again from the application.</p>`,
  });
}
