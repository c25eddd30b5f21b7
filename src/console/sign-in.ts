// Signing in to the console: Tollgate's own authorization code flow with PKCE, the console being
// an ordinary public client. The browser keeps only a random nonce in a cookie; the state and the
// PKCE verifier are derived from it with a server secret, so nothing waits in the database and a
// stolen nonce alone cannot redeem a code. The console's server side redeems the code at the token
// endpoint, over the same path any client's request takes, learns who signed in, and opens a session.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Config } from '../config/config.js';
import { isReferenceGone } from '../db/errors.js';
import { CsrfTokens } from '../interactions/csrf.js';
import { redeemUserAccessToken } from '../oidc/access-tokens.js';
import type { KeyRing } from '../keys/key-ring.js';
import { subkey } from '../crypto/derive.js';
import { sha256 } from '../crypto/hash.js';
import { randomSecret } from '../crypto/random.js';
import { ENDPOINTS } from '../http/endpoints.js';
import type { UserService } from '../users/service.js';
import { CONSOLE_CLIENT_ID, CONSOLE_PATH, CONSOLE_SCOPE, consoleCallback } from './client.js';
import { ConsolePageError } from './page.js';
import type { ConsoleSessions } from './sessions.js';

export const SESSION_COOKIE = 'tollgate_console';
const LOGIN_COOKIE = 'tollgate_console_login';
/** How long the way through the sign-in page may take. */
const LOGIN_TTL_SECONDS = 30 * 60;

export interface SignInDeps {
  config: Config;
  provider: Provider;
  users: UserService;
  sessions: ConsoleSessions;
  /** Whence the secrets the state and the verifier are derived with. */
  keys: KeyRing;
  /** Where this process's own listener answers, for the code exchange. */
  localUrl: () => string;
}

export function consoleSignIn({ config, provider, users, sessions, keys, localUrl }: SignInDeps) {
  const cookiePath = `${config.issuerPath}${CONSOLE_PATH}`;
  const cookie = (maxAgeSeconds: number) => ({
    path: cookiePath,
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: config.issuer.startsWith('https:'),
    signed: false,
    overwrite: true,
    maxAge: maxAgeSeconds * 1000,
  });
  // HMACs of the nonce, as the sign-in forms' CSRF tokens are of the interaction id.
  const states = new CsrfTokens(subkey(keys.current.secrets.csrf, 'tollgate console state'));
  const verifiers = new CsrfTokens(subkey(keys.current.secrets.csrf, 'tollgate console verifier'));

  /** GET /console/login: off to the authorization endpoint, asking for the password every time. */
  function start(ctx: Context): void {
    const nonce = randomSecret();
    ctx.cookies.set(LOGIN_COOKIE, nonce, cookie(LOGIN_TTL_SECONDS));
    const challenge = sha256(verifiers.issue(nonce));
    const query = new URLSearchParams({
      client_id: CONSOLE_CLIENT_ID,
      redirect_uri: consoleCallback(config),
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: states.issue(nonce),
      scope: CONSOLE_SCOPE,
      prompt: 'login',
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(`${config.issuerPath}${ENDPOINTS.authorization.path}?${query}`);
  }

  /** GET /console/callback: the code for the session, if the user is an administrator. */
  async function callback(ctx: Context): Promise<void> {
    const nonce = ctx.cookies.get(LOGIN_COOKIE) ?? '';
    ctx.cookies.set(LOGIN_COOKIE, null, cookie(0));
    const { code, state, error } = ctx.query;
    if (!/^[\w-]{43}$/.test(nonce) || !states.verify(nonce, state)) {
      throw new ConsolePageError(400, 'Sign-in expired', 'This sign-in did not start in this browser, or took too long. Sign in again.', { signIn: true });
    }
    if (typeof error === 'string') {
      const why = error === 'access_denied' ? 'The sign-in was cancelled.' : `The sign-in was refused (${error.slice(0, 64)}).`;
      throw new ConsolePageError(400, 'Sign-in cancelled', why, { signIn: true });
    }
    if (typeof code !== 'string' || code.length > 200)
      throw new ConsolePageError(400, 'Sign-in failed', 'The sign-in came back without a code.', { signIn: true });
    const accountId = await exchange(code, verifiers.issue(nonce));
    const user = accountId ? await users.findActive(accountId) : null;
    const failed = () => new ConsolePageError(400, 'Sign-in failed', 'The sign-in could not be completed. Sign in again.', { signIn: true });
    if (!user) throw failed();
    if (!user.admin) {
      throw new ConsolePageError(
        403,
        'Not an administrator',
        `${user.username} may not use the console: ask an administrator to give this account the admin role.`,
        { signIn: true },
      );
    }
    // A user deleted by another request since findActive has no session to open.
    const session = await sessions.start(user.id).catch((err: unknown) => {
      throw isReferenceGone(err) ? failed() : err;
    });
    ctx.cookies.set(SESSION_COOKIE, session.value, cookie(config.consoleSessionTtl));
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(`${cookiePath}/`);
  }

  /** Redeems the code as the console's client at the token endpoint; the user it was for, if any. */
  async function exchange(code: string, verifier: string): Promise<string | undefined> {
    const response = await fetch(`${localUrl()}${config.issuerPath}${ENDPOINTS.token.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: CONSOLE_CLIENT_ID,
        code,
        code_verifier: verifier,
        redirect_uri: consoleCallback(config),
      }),
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: unknown };
    if (!response.ok || typeof body.access_token !== 'string') return undefined;
    const redeemed = await redeemUserAccessToken(provider, body.access_token);
    return redeemed?.clientId === CONSOLE_CLIENT_ID ? redeemed.accountId : undefined;
  }

  /** POST /console/logout (CSRF-checked by the router): the session ends here and in the browser. */
  async function signOut(ctx: Context, sessionId: string): Promise<void> {
    await sessions.end(sessionId);
    ctx.cookies.set(SESSION_COOKIE, null, cookie(0));
  }

  return { start, callback, signOut, sessionCookie: (ctx: Context) => ctx.cookies.get(SESSION_COOKIE) };
}
