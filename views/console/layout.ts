import { html, type SafeHtml } from '../html.js';
import { pageHead, STYLESHEET_PATH } from '../layout.js';

export const CONSOLE_STYLESHEET_PATH = '/assets/console.css';
export const CONSOLE_SCRIPT_PATH = '/assets/console.js';

/** A page in the console's navigation. */
export interface NavItem {
  title: string;
  /** Below /console, e.g. `/clients`. */
  path: string;
}

/** Who is signed in, for the header: the name shown and the sign-out form's CSRF token. */
export interface SignedIn {
  username: string;
  csrf: string;
}

export interface ConsoleLayoutProps {
  /** The issuer's path ('' for none). */
  root: string;
  title: string;
  body: SafeHtml;
  nav: readonly NavItem[];
  /** The navigation entry to mark as the current page. */
  current?: string;
  /** Absent on pages shown to someone not signed in (errors, refusals). */
  signedIn?: SignedIn;
}

/** The page around every console view: Tollgate's own stylesheet and script, nothing from elsewhere, no inline code. */
export function consoleLayout({ root, title, body, nav, current, signedIn }: ConsoleLayoutProps): string {
  const base = `${root}/console`;
  return html`${pageHead({ title: `${title} · Tollgate console`, root, stylesheets: [STYLESHEET_PATH, CONSOLE_STYLESHEET_PATH], scripts: [CONSOLE_SCRIPT_PATH] })}
<body>
<header class="topbar">
<a class="brand" href="${base}/">Tollgate console</a>
${signedIn
  ? html`<nav aria-label="Console">
${nav.map((item) => html`<a href="${base}${item.path}"${item.path === current ? html` aria-current="page"` : ''}>${item.title}</a>\n`)}</nav>
<form method="post" action="${base}/logout" class="signout">
<input type="hidden" name="csrf" value="${signedIn.csrf}">
<span class="who">${signedIn.username}</span>
<button type="submit" class="secondary">Sign out</button>
</form>`
  : ''}
</header>
<main class="content">
${body}
</main>
</body>
</html>
`.value;
}

/** A page that says what went wrong, with the way on: signing in again, or back to the console. */
export function consoleMessage({ title, message, root, signIn }: { title: string; message: string; root: string; signIn?: boolean }): SafeHtml {
  return html`<h1>${title}</h1>
<p class="alert" role="alert">${message}</p>
<p>${signIn ? html`<a class="button primary" href="${root}/console/login">Sign in</a>` : html`<a href="${root}/console/">Back to the console</a>`}</p>`;
}
