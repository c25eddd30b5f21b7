import { html } from './html.js';
import { layout, type PageProps } from './layout.js';

export interface ErrorProps extends PageProps {
  title: string;
  message: string;
  /** The OAuth error code, for whoever reports the problem. */
  code?: string;
}

export function errorPage({ title, message, code, root }: ErrorProps): string {
  return layout({
    root,
    title,
    body: html`<h1>${title}</h1>
<p class="alert" role="alert">${message}</p>
${code ? html`<p class="code">Error code: <code>${code}</code></p>` : ''}
<p>You can close this page and start again from the application.</p>`,
  });
}
