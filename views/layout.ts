import { html, type SafeHtml } from './html.js';

export const STYLESHEET_PATH = '/assets/tollgate.css';
export const ICON_PATH = '/assets/favicon.svg';

/** What every page is given: where Tollgate's paths start (the issuer's path, '' for none). */
export interface PageProps {
  root?: string;
}

export interface LayoutProps extends PageProps {
  title: string;
  body: SafeHtml;
}

/**
 * The start of every page: its title, Tollgate's icon, the stylesheets and scripts given (all
 * served by Tollgate itself), and no indexing.
 */
export function pageHead({ title, root, stylesheets, scripts = [] }: { title: string; root: string; stylesheets: string[]; scripts?: string[] }): SafeHtml {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<link rel="icon" href="${root}${ICON_PATH}" type="image/svg+xml">
${stylesheets.map((path) => html`<link rel="stylesheet" href="${root}${path}">
`)}${scripts.map((path) => html`<script src="${root}${path}" defer></script>
`)}</head>`;
}

/** The page around every view: one stylesheet from Tollgate itself, no scripts, nothing from elsewhere. */
export function layout({ title, body, root = '' }: LayoutProps): string {
  return html`${pageHead({ title: `${title} · Tollgate`, root, stylesheets: [STYLESHEET_PATH] })}
<body>
<main class="card">
${body}
</main>
<footer class="footer">Tollgate</footer>
</body>
</html>
`.value;
}
