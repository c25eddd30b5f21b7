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

/** The page around every view: one stylesheet from Tollgate itself, no scripts, nothing from elsewhere. */
export function layout({ title, body, root = '' }: LayoutProps): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · Tollgate</title>
<link rel="icon" href="${root}${ICON_PATH}" type="image/svg+xml">
<link rel="stylesheet" href="${root}${STYLESHEET_PATH}">
</head>
<body>
<main class="card">
${body}
</main>
<footer class="footer">Tollgate</footer>
</body>
</html>
`.value;
}
