// A minimal browser for the sign-in pages without a browser: a cookie jar, manual redirects, and
// the forms' CSRF tokens read from the HTML. The Chromium test (test/browser) does the same for real.
import { createHash, randomBytes } from 'node:crypto';

export interface PageResult {
  status: number;
  location?: string;
  headers: Headers;
  text: string;
}

export class BrowserAgent {
  readonly cookies = new Map<string, string>();

  /** `headers` go with every request, e.g. `X-Forwarded-For` to sign in from another address behind a trusted proxy. */
  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
  ) {}

  async get(url: string): Promise<PageResult> {
    return this.#send(url, { method: 'GET' });
  }

  async post(url: string, form: Record<string, string>): Promise<PageResult> {
    return this.#send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  }

  /** GETs `url` and follows redirects while they stay on Tollgate; returns the last answer. */
  async follow(url: string): Promise<PageResult> {
    let result = await this.get(url);
    for (let hops = 0; result.location?.startsWith(this.base) && hops < 10; hops += 1) {
      result = await this.get(result.location);
    }
    return result;
  }

  async #send(url: string, init: RequestInit): Promise<PageResult> {
    const absolute = new URL(url, this.base).href;
    const response = await fetch(absolute, {
      ...init,
      redirect: 'manual',
      headers: { ...this.headers, ...(init.headers as Record<string, string> | undefined), cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(';');
      const [name, value] = [pair!.slice(0, pair!.indexOf('=')).trim(), pair!.slice(pair!.indexOf('=') + 1).trim()];
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const location = response.headers.get('location');
    return {
      status: response.status,
      location: location ? new URL(location, absolute).href : undefined,
      headers: response.headers,
      text: await response.text(),
    };
  }
}

/** The CSRF token of the (first) form on a page. */
export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error(`no CSRF token on the page:\n${html.slice(0, 500)}`);
  return match[1]!;
}

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeOptions {
  clientId: string;
  redirectUri: string;
  scope?: string;
  login: string;
  password: string;
  /** 'allow' (default), 'deny', or 'none' when no consent page is expected. */
  consent?: 'allow' | 'deny' | 'none';
  remember?: boolean;
  extra?: Record<string, string>;
  agent?: BrowserAgent;
}

/** Runs the authorization code flow through the pages; returns the redirect back to the client and the PKCE verifier. */
export async function authorize(base: string, options: AuthorizeOptions) {
  const agent = options.agent ?? new BrowserAgent(base);
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(8).toString('hex');
  const query = new URLSearchParams({
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    response_type: 'code',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    ...(options.scope === undefined ? {} : { scope: options.scope }),
    ...options.extra,
  });
  let page = await agent.follow(`${base}/auth?${query}`);
  if (page.status === 200 && page.text.includes('name="password"')) {
    const uid = /action="[^"]*\/interaction\/([\w-]+)\/login"/.exec(page.text)![1]!;
    const posted = await agent.post(`${base}/interaction/${uid}/login`, { csrf: csrfOf(page.text), login: options.login, password: options.password });
    if (!posted.location) throw new Error(`sign-in failed: ${posted.status} ${posted.text.slice(0, 300)}`);
    page = await agent.follow(posted.location);
  }
  if (page.status === 200 && page.text.includes('name="decision"')) {
    if (options.consent === 'none') throw new Error('unexpected consent page');
    const uid = /action="[^"]*\/interaction\/([\w-]+)\/consent"/.exec(page.text)![1]!;
    const form: Record<string, string> = { csrf: csrfOf(page.text), decision: options.consent ?? 'allow' };
    if (options.remember !== false) form.remember = 'yes';
    const posted = await agent.post(`${base}/interaction/${uid}/consent`, form);
    if (!posted.location) throw new Error(`consent failed: ${posted.status} ${posted.text.slice(0, 300)}`);
    page = await agent.follow(posted.location);
  } else if (options.consent === 'allow' || options.consent === 'deny') throw new Error('expected a consent page');
  const redirect = page.location ? new URL(page.location) : undefined;
  return { agent, page, redirect, verifier, state, code: redirect?.searchParams.get('code') ?? undefined };
}
