// Sending Tollgate's HTML pages: the headers every page needs, the stylesheet, and the error page
// for the browser-facing provider routes.
import { readFileSync } from 'node:fs';
import type { Context, Next } from 'koa';
import { errorPage } from '../../views/error.js';
import { CONSOLE_SCRIPT_PATH, CONSOLE_STYLESHEET_PATH } from '../../views/console/layout.js';
import { ICON_PATH, STYLESHEET_PATH } from '../../views/layout.js';
import { PROJECT_ROOT } from '../project-root.js';

/** The pages' only assets, read once: served by Tollgate itself, never from elsewhere. */
const ASSETS = new Map([
  [STYLESHEET_PATH, { type: 'text/css; charset=utf-8', body: readFileSync(new URL('views/tollgate.css', PROJECT_ROOT)) }],
  [ICON_PATH, { type: 'image/svg+xml', body: readFileSync(new URL('views/favicon.svg', PROJECT_ROOT)) }],
  [CONSOLE_STYLESHEET_PATH, { type: 'text/css; charset=utf-8', body: readFileSync(new URL('views/console/console.css', PROJECT_ROOT)) }],
  [CONSOLE_SCRIPT_PATH, { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('views/console/console.js', PROJECT_ROOT)) }],
]);

/**
 * A strict policy: nothing but our own stylesheet loads, nothing may frame the page, and forms may
 * post only to us. Chrome applies form-action to the redirects that follow a form post, and a
 * sign-in form's post ends at the client's redirect_uri: its origin must be allowed too.
 */
export function pagePolicy(formTargets: string[] = []): string {
  const origins = formTargets.map((uri) => URL.parse(uri)?.origin).filter((origin): origin is string => Boolean(origin) && origin !== 'null');
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    `form-action 'self'${[...new Set(origins)].map((origin) => ` ${origin}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function sendPage(ctx: Context, body: string, { status = 200, formTargets = [] as string[] } = {}): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  // Pages carry per-request CSRF tokens and interaction state: never stored, never reused.
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.set('Content-Security-Policy', pagePolicy(formTargets));
  ctx.body = body;
}

/** GET /assets/tollgate.css and /assets/favicon.svg. */
export async function assets(ctx: Context, next: Next): Promise<void> {
  const asset = ASSETS.get(ctx.path);
  if (!asset || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
  ctx.type = asset.type;
  ctx.set('Cache-Control', 'public, max-age=3600');
  ctx.body = asset.body;
}

const MESSAGES: Record<string, { title: string; message: string }> = {
  invalid_redirect_uri: {
    title: 'Sign-in request refused',
    message: 'The application sent you here with a return address it has not registered, so Tollgate will not send you back to it.',
  },
  invalid_client: { title: 'Unknown application', message: 'The application that sent you here is not registered with Tollgate, or has been disabled.' },
  session_not_found: { title: 'Sign-in expired', message: 'This sign-in request has expired or was already completed.' },
};

/** Renders an oidc-provider error that cannot be sent back to the client, for a person in a browser. */
export function sendErrorPage(ctx: Context, out: { error: string; error_description?: string }, root: string): void {
  const known = MESSAGES[out.error];
  const status = Math.max(ctx.status, 400);
  sendPage(
    ctx,
    errorPage({
      root,
      title: known?.title ?? 'Sign-in request failed',
      message: known?.message ?? `The application's sign-in request could not be processed: ${out.error_description ?? out.error}.`,
      code: out.error,
    }),
    { status },
  );
}
