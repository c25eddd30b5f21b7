// The web console at /console: server-rendered pages for administrators, signed in through
// Tollgate's own authorization code flow (src/console/sign-in.ts). Every answer carries a strict
// CSP; every form post needs the session's CSRF token; anything that goes wrong is a page with
// its status, never JSON and never a stack trace.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { Logger } from 'pino';
import { consoleLayout, consoleMessage } from '../../views/console/layout.js';
import { answerFor, httpErrorOf } from '../http/errors.js';
import { formBodies } from '../http/bodies.js';
import { CsrfTokens } from '../interactions/csrf.js';
import { subkey } from '../crypto/derive.js';
import { CONSOLE_PATH } from './client.js';
import { ConsolePageError, type AuditedEvent, type ConsoleContext, type ConsoleServices, type ConsoleState, type ConsoleTools } from './page.js';
import { CONSOLE_PAGES } from './pages/index.js';
import { ConsoleSessions } from './sessions.js';
import { consoleSignIn } from './sign-in.js';

/** default-src 'self' and nothing inline: the console's own stylesheet, script and images only. */
export const CONSOLE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "object-src 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export interface ConsoleDeps extends ConsoleServices {
  provider: Provider;
  log: Logger;
  /** Where this process's own listener answers (the code exchange goes there). */
  localUrl: () => string;
}

const isConsolePath = (path: string) => path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);

/** The page a path belongs to, for the navigation: /console/ is the dashboard, /console/clients/x the clients. */
function pageOf(path: string): string | undefined {
  const below = path.slice(CONSOLE_PATH.length);
  return below === '/' ? '/' : CONSOLE_PAGES.find((page) => page.path !== '/' && (below === page.path || below.startsWith(`${page.path}/`)))?.path;
}

/** The console as one Koa middleware: it answers every path under /console and nothing else. */
/** The console's middleware, and its router, whose route patterns label its requests (src/http/route-labels.ts). */
export function consoleApp(deps: ConsoleDeps): { serve: (ctx: Context, next: Next) => Promise<void>; router: Router<ConsoleState> } {
  const { config, log, metrics } = deps;
  const root = config.issuerPath;
  const base = `${root}${CONSOLE_PATH}`;
  const sessions = new ConsoleSessions(deps.db, config.consoleSessionTtl);
  const csrf = new CsrfTokens(subkey(deps.keys.current.secrets.csrf, 'tollgate console csrf'));
  const signIn = consoleSignIn({ config, provider: deps.provider, users: deps.users, sessions, keys: deps.keys, localUrl: deps.localUrl });
  const nav = CONSOLE_PAGES.map(({ title, path }) => ({ title, path }));
  const parseForm = formBodies();

  function send(
    ctx: Context,
    { title, body, status = 200, current }: { title: string; body: ReturnType<typeof consoleMessage>; status?: number; current?: string },
  ) {
    const state = ctx.state as Partial<ConsoleState>;
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = consoleLayout({
      root,
      title,
      body,
      nav,
      current,
      signedIn: state.session && state.csrf ? { username: state.session.user.username, csrf: state.csrf } : undefined,
    });
  }

  const tools: ConsoleTools = {
    ...deps,
    base,
    render: (ctx, page) => send(ctx, { ...page, current: pageOf(ctx.path) }),
    async audited<T>(ctx: ConsoleContext, event: AuditedEvent | ((made: T | undefined) => AuditedEvent), change: () => Promise<T>) {
      const record = (made: T | undefined, error?: string) => {
        const fields = typeof event === 'function' ? event(made) : event;
        const outcome = error ? 'failure' : 'success';
        deps.audit.record({ ...fields, outcome, actor: ctx.state.session.user.id, details: { ...fields.details, via: 'console', error } }, ctx);
      };
      try {
        const made = await change();
        record(made);
        return made;
      } catch (err) {
        record(undefined, httpErrorOf(err)?.error ?? 'server_error');
        throw err;
      }
    },
  };

  const router = new Router<ConsoleState>({ prefix: CONSOLE_PATH, sensitive: true, strict: true });
  router.get('/login', (ctx) => signIn.start(ctx));
  router.get('/callback', (ctx) => signIn.callback(ctx));
  router.get('/signed-out', (ctx) =>
    send(ctx, { title: 'Signed out', body: consoleMessage({ title: 'Signed out', message: 'You have signed out of the console.', root, signIn: true }) }),
  );
  router.post('/logout', async (ctx) => {
    await signIn.signOut(ctx, ctx.state.session.id);
    ctx.status = 303;
    ctx.redirect(`${base}/signed-out`);
  });
  for (const page of CONSOLE_PAGES) page.routes(router, tools);
  const routes = router.routes();
  const open = new Set(['/login', '/callback', '/signed-out'].map((path) => `${CONSOLE_PATH}${path}`));

  /** Every other page needs a live session of an administrator, and every form post its CSRF token. */
  async function requireSession(ctx: Context): Promise<'signed-in' | 'redirected'> {
    const session = await sessions.find(signIn.sessionCookie(ctx));
    if (!session) {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        throw new ConsolePageError(401, 'Signed out', 'Your console session has ended. Sign in again, then repeat what you were doing.', { signIn: true });
      }
      ctx.redirect(`${base}/login`);
      return 'redirected';
    }
    ctx.state.session = session;
    ctx.state.csrf = csrf.issue(session.id);
    if (ctx.method === 'POST' && !csrf.verify(session.id, (ctx.request.body as Record<string, unknown> | undefined)?.csrf)) {
      throw new ConsolePageError(403, 'Form expired', 'This form was not sent from a page of this console session. Go back, reload the page and try again.');
    }
    return 'signed-in';
  }

  async function serve(ctx: Context, next: Next): Promise<void> {
    if (!isConsolePath(ctx.path)) return next();
    if (ctx.path === CONSOLE_PATH && ctx.method === 'GET') return ctx.redirect(`${base}/`);
    ctx.set('Content-Security-Policy', CONSOLE_POLICY);
    // Pages carry CSRF tokens, secrets shown once and audit records: never stored.
    ctx.set('Cache-Control', 'no-store');
    try {
      if (ctx.method === 'POST') {
        if (!ctx.is('application/x-www-form-urlencoded'))
          throw new ConsolePageError(415, 'Unsupported form', 'The form was sent in a format the console does not accept.');
        await parseForm(ctx, async () => {});
      }
      if (!open.has(ctx.path) && (await requireSession(ctx)) === 'redirected') return;
      await routes(ctx as Parameters<typeof routes>[0], async () => {});
      if (ctx.body === undefined && ctx.status === 404) throw new ConsolePageError(404, 'Not found', 'There is no such page in the console.');
    } catch (err) {
      const page = toPageError(err) ?? toPageError(answerFor(err, { metrics, log }, ctx.state.requestId))!;
      send(ctx, {
        title: page.title,
        status: page.status,
        body: consoleMessage({ title: page.title, message: page.message, root, signIn: page.options.signIn }),
      });
    }
  }
  return { serve, router };
}

const TITLES: Record<number, string> = {
  400: 'Not accepted',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too large',
  415: 'Unsupported form',
  429: 'Too many requests',
  503: 'Unavailable',
};

/** A page for what went wrong; the error model's HttpErrors (bad input, not found, conflict) keep their status and description. */
function toPageError(err: unknown): ConsolePageError | undefined {
  if (err instanceof ConsolePageError) return err;
  const known = httpErrorOf(err);
  if (known)
    return new ConsolePageError(known.status, TITLES[known.status] ?? (known.status >= 500 ? 'Something went wrong' : 'Not accepted'), known.description);
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return new ConsolePageError(status, TITLES[status] ?? 'Not accepted', 'The request could not be read. Go back and try again.');
  return undefined;
}
