// Signing in to the web console without a browser: the agent follows the console's redirects to
// the sign-in page, posts the password, and comes back with the session cookie.
import { BrowserAgent, csrfOf } from './browser-agent.js';

/** Signs `login` in to the console; the agent holds the session, `page` is where it landed. */
export async function signInToConsole(base: string, login: string, password: string, agent = new BrowserAgent(base)) {
  const signInPage = await agent.follow(`${base}/console/`);
  const uid = /action="[^"]*\/interaction\/([\w-]+)\/login"/.exec(signInPage.text)?.[1];
  if (!uid) throw new Error(`no sign-in page: ${signInPage.status} ${signInPage.text.slice(0, 300)}`);
  const posted = await agent.post(`${base}/interaction/${uid}/login`, { csrf: csrfOf(signInPage.text), login, password });
  if (!posted.location) throw new Error(`sign-in failed: ${posted.status} ${posted.text.slice(0, 300)}`);
  const page = await agent.follow(posted.location);
  return { agent, page };
}
