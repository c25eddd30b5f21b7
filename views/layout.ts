import { html, type SafeHtml } from './html.js';

export const STYLESHEET_PATH = '/assets/tollgate.css';
export const ICON_PATH = '/assets/favicon.svg';

export interface LayoutProps {
  title: string;
  body: SafeHtml;
}

/** The page around every view: one stylesheet from Tollgate itself, no scripts, nothing from elsewhere. */
export function layout({ title, body }: LayoutProps): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title} · Tollgate</title>
<link rel="icon" href="${ICON_PATH}" type="image/svg+xml">
<link rel="stylesheet" href="${STYLESHEET_PATH}">
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
