// The sign-in and consent pages behind oidc-provider's interactions (/interaction/:uid): the
// provider sends the browser here when it needs the user, and these routes send it back with the
// result. Everything a person sees is HTML (views/), errors included.
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { consentPage, type ScopeLine } from '../../views/consent.js';
import { errorPage } from '../../views/error.js';
import { loginPage } from '../../views/login.js';
import type { Config } from '../config/config.js';
import { isReferenceGone } from '../db/errors.js';
import { formBodies } from '../http/bodies.js';
import { RateLimitError } from '../rate-limit/limits.js';
import { Overloaded, TryLater } from '../domain-errors.js';
import type { StoreAdapter } from '../oidc/adapter.js';
import { metadataOf } from '../oidc/client-metadata.js';
import type { SecurityEvents } from '../oidc/security-events.js';
import { INTERACTION_PATH } from '../oidc/user-flows.js';
import type { UserService } from '../users/service.js';
import type { SignInThrottle } from '../users/sign-in-throttle.js';
import type { CsrfTokens } from './csrf.js';
import { sendPage } from '../http/pages.js';

export interface InteractionDeps {
  provider: Provider;
  users: UserService;
  config: Config;
  csrf: CsrfTokens;
  events: SecurityEvents;
  /** Optional brute-force protection (the RATE_LIMIT_LOGIN_* limits, src/users/sign-in-throttle.ts). */
  loginThrottle?: Pick<SignInThrottle, 'check' | 'failed' | 'succeeded' | 'abandoned' | 'recordsRefusal'>;
}

type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

const UID = /^[\w-]{1,64}$/;
const WRONG_CREDENTIALS = 'The username or password is incorrect.';
const DISABLED = 'This account is disabled. Ask your administrator to enable it.';

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Confirm who you are',
  offline_access: 'Keep access while you are not using it',
};

class PageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

const expired = () => new PageError(400, 'Sign-in expired', 'This sign-in page has expired or was already used. Go back to the application and start again.');
/** A write that links to a user or client removed meanwhile: this sign-in cannot finish. */
const goneAsExpired = (err: unknown): never => {
  throw isReferenceGone(err) ? expired() : err;
};
const forged = () =>
  new PageError(
    403,
    'Form expired',
    'This form was not sent from a page Tollgate showed you, or it is out of date. Go back to the application and start again.',
  );

export function interactionRouter({ provider, users, config, csrf, events, loginThrottle }: InteractionDeps): Router {
  const router = new Router({ prefix: INTERACTION_PATH });
  // Where the browser finds these pages: under the issuer's path.
  const pages = `${config.issuerPath}${INTERACTION_PATH}`;
  const root = config.issuerPath;

  router.use(async (ctx, next) => {
    try {
      if (ctx.method === 'POST' && !ctx.is('application/x-www-form-urlencoded')) {
        throw new PageError(415, 'Unsupported form', 'The form was sent in a format Tollgate does not accept.');
      }
      await next();
    } catch (err) {
      const page = toPageError(err);
      if (!page) throw err;
      if (err instanceof TryLater) ctx.set('Retry-After', String(err.retryAfterSeconds));
      sendPage(ctx, errorPage({ root, title: page.title, message: page.message }), { status: page.status });
    }
  });
  router.use(formBodies());

  /** The interaction named in the URL, if this browser's interaction cookie is for it. */
  async function load(ctx: Context): Promise<Interaction> {
    if (!UID.test(ctx.params.uid ?? '')) throw expired();
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) throw expired();
    return interaction;
  }

  async function loadForm(ctx: Context, prompt: 'login' | 'consent' | undefined): Promise<{ interaction: Interaction; form: Record<string, unknown> }> {
    const form = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (!UID.test(ctx.params.uid ?? '')) throw expired();
    if (!csrf.verify(ctx.params.uid!, form.csrf)) throw forged();
    const interaction = await load(ctx);
    if (prompt && interaction.prompt.name !== prompt) throw expired();
    return { interaction, form };
  }

  async function clientOf(interaction: Interaction) {
    const client = await provider.Client.find(String(interaction.params.client_id));
    if (!client) throw new PageError(400, 'Unknown application', 'The application that sent you here is no longer registered.');
    return client;
  }

  const formTargets = (interaction: Interaction) => [String(interaction.params.redirect_uri ?? '')];
  const actions = (uid: string) => ({ root, abortAction: `${pages}/${uid}/abort`, csrf: csrf.issue(uid) });

  async function renderLogin(ctx: Context, interaction: Interaction, failure?: { login: string; error: string; status: number }) {
    const client = await clientOf(interaction);
    sendPage(
      ctx,
      loginPage({
        action: `${pages}/${interaction.uid}/login`,
        ...actions(interaction.uid),
        clientName: client.clientName ?? client.clientId,
        login: failure?.login ?? (typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint.slice(0, 254) : undefined),
        error: failure?.error,
      }),
      { status: failure?.status ?? 200, formTargets: formTargets(interaction) },
    );
  }

  async function renderConsent(ctx: Context, interaction: Interaction) {
    const client = await clientOf(interaction);
    const user = await users.findActive(String(interaction.session?.accountId));
    if (!user) throw expired();
    const scopes: ScopeLine[] = requestedScopes(interaction).map((name) => ({ name, description: SCOPE_DESCRIPTIONS[name] }));
    const absolute = metadataOf(client).refresh_token_absolute_ttl ?? config.refreshTokenAbsoluteTtl;
    sendPage(
      ctx,
      consentPage({
        action: `${pages}/${interaction.uid}/consent`,
        ...actions(interaction.uid),
        clientName: client.clientName ?? client.clientId,
        username: user.username,
        scopes,
        offlineFor: client.grantTypeAllowed('refresh_token') ? duration(absolute) : undefined,
      }),
      { formTargets: formTargets(interaction) },
    );
  }

  router.get('/:uid', async (ctx) => {
    const interaction = await load(ctx);
    if (interaction.prompt.name === 'login') return renderLogin(ctx, interaction);
    if (interaction.prompt.name === 'consent') return renderConsent(ctx, interaction);
    throw expired();
  });

  router.post('/:uid/login', async (ctx) => {
    const { interaction, form } = await loadForm(ctx, 'login');
    const login = typeof form.login === 'string' ? form.login.slice(0, 254) : '';
    const password = typeof form.password === 'string' ? form.password : '';
    const named = await users.findByLogin(login);
    const seen = { clientId: String(interaction.params.client_id), accountId: named?.id, ip: ctx.ip, requestId: ctx.state.requestId };
    await loginThrottle?.check(named?.id, ctx.ip).catch(async (err: unknown) => {
      if (err instanceof RateLimitError && (await loginThrottle.recordsRefusal(ctx.ip))) {
        events.emit({ type: 'user.login_throttled', ...seen, reason: err.limit, retryAfterSeconds: err.retryAfterSeconds });
      }
      throw err;
    });
    const result = await users.signIn(named, password).catch(async (err: unknown) => {
      await loginThrottle?.abandoned(named?.id, ctx.ip);
      throw err;
    });
    if (!result.ok) {
      // A disabled account's password was right: no failure to count.
      if (result.reason === 'invalid_credentials') await loginThrottle?.failed(named?.id, ctx.ip);
      else if (named) await loginThrottle?.succeeded(named.id, ctx.ip);
      events.emit({ type: 'user.login_failed', ...seen, reason: result.reason });
      const [error, status] = result.reason === 'disabled' ? [DISABLED, 403] : [WRONG_CREDENTIALS, 401];
      return renderLogin(ctx, interaction, { login, error, status });
    }
    await loginThrottle?.succeeded(result.user.id, ctx.ip);
    events.emit({ type: 'user.login_succeeded', ...seen });

    // Someone else is signed in in this browser (prompt=login): their session ends, as it would
    // with a sign-out, and this interaction no longer belongs to it.
    const previous = interaction.session;
    if (previous?.accountId && previous.accountId !== result.user.id) {
      if (previous.uid) await (provider.Session.adapter as unknown as StoreAdapter).destroyByUid(previous.uid);
      delete interaction.session;
    }
    // A transient sign-in cookie (gone when the browser closes); its server side lasts SESSION_TTL.
    interaction.result = { login: { accountId: result.user.id, remember: false, amr: ['pwd'] } };
    await finish(ctx, interaction);
  });

  router.post('/:uid/consent', async (ctx) => {
    const { interaction, form } = await loadForm(ctx, 'consent');
    const accountId = interaction.session?.accountId;
    if (!accountId) throw expired();
    if (form.decision !== 'allow') {
      interaction.result = { error: 'access_denied', error_description: 'the user denied the request' };
      return finish(ctx, interaction);
    }
    const clientId = String(interaction.params.client_id);
    const grant = interaction.grantId ? await provider.Grant.find(interaction.grantId) : new provider.Grant({ accountId, clientId });
    if (!grant) throw expired();
    const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (details.missingOIDCScope?.length) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    // Remembered before the grant is saved: a user or application deleted while the page was open
    // (the consent row's references are gone) ends the sign-in, leaving no grant behind.
    if (form.remember === 'yes') await users.rememberConsent(accountId, clientId, requestedScopes(interaction)).catch(goneAsExpired);
    const grantId = await grant.save();
    interaction.result = { ...interaction.lastSubmission, consent: { grantId } };
    await finish(ctx, interaction);
  });

  router.post('/:uid/abort', async (ctx) => {
    const { interaction } = await loadForm(ctx, undefined);
    interaction.result = { error: 'access_denied', error_description: 'the user cancelled the sign-in' };
    await finish(ctx, interaction);
  });

  return router;
}

/** Stores the result and sends the browser back to the authorization endpoint (303: the form post is done). */
async function finish(ctx: Context, interaction: Interaction): Promise<void> {
  await interaction.save(Math.max(1, interaction.exp - Math.floor(Date.now() / 1000)));
  ctx.status = 303;
  ctx.set('Cache-Control', 'no-store');
  ctx.redirect(interaction.returnTo);
}

function requestedScopes(interaction: Interaction): string[] {
  const scope = interaction.params.scope;
  return typeof scope === 'string' ? [...new Set(scope.split(' ').filter(Boolean))] : [];
}

function toPageError(err: unknown): PageError | undefined {
  if (err instanceof PageError) return err;
  if (err instanceof errors.SessionNotFound) return expired();
  // The sign-in rate limits (RATE_LIMIT_LOGIN_*).
  if (err instanceof RateLimitError) {
    const seconds = err.retryAfterSeconds;
    const wait = seconds < 60 ? `${seconds} second${seconds === 1 ? '' : 's'}` : duration(seconds, true);
    return new PageError(429, 'Too many attempts', `Too many failed sign-ins. Wait ${wait} and try again.`);
  }
  // Too many passwords being checked at once (the argon2 gate is full): the person may simply retry.
  if (err instanceof Overloaded) return new PageError(503, 'Busy', 'Tollgate is busy right now. Wait a moment and try again.');
  // Koa's body parser: a malformed or oversized form.
  const status = (err as { status?: number }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new PageError(status, 'Form not accepted', 'The form could not be read. Go back and try again.');
  }
  return undefined;
}

function duration(seconds: number, short = false): string {
  if (short && seconds < 3600) {
    const minutes = Math.max(1, Math.ceil(seconds / 60));
    return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  }
  const days = Math.round(seconds / 86400);
  if (days >= 1) return `${days} day${days === 1 ? '' : 's'}`;
  const hours = Math.max(1, Math.round(seconds / 3600));
  return `${hours} hour${hours === 1 ? '' : 's'}`;
}
