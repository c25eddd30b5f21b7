// The refresh rotation scenario: chains of refresh tokens, each response's new refresh token
// being used by a later request (the old one is consumed by then).
import type { Request } from 'autocannon';
import { createUser, registerAppClient, signInForTokens, type AppClient } from '../test/helpers/users.js';

export interface RefreshChains {
  client: AppClient;
  tokens: string[];
}

/** Signs a user in `count` times through Tollgate's pages (the authorization code flow): one refresh token each. */
export async function signInChains(base: string, count: number): Promise<RefreshChains> {
  const client = await registerAppClient(base);
  const user = await createUser(base);
  const tokens: string[] = [];
  while (tokens.length < count) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, count - tokens.length) }, () => signInForTokens(base, { client, user })));
    tokens.push(...batch.map((response) => response.body.refresh_token as string));
  }
  return { client, tokens };
}

/**
 * autocannon clears a connection's context whenever its request list starts over (here, every
 * request), so the chains live in one shared pool instead: a response puts its new refresh token
 * in, the same connection's next request (built right after) takes one out.
 */
export function refreshRotation({ client, tokens }: RefreshChains): Request[] {
  const pool = [...tokens];
  return [
    {
      method: 'POST',
      path: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      setupRequest: (request) => ({
        ...request,
        body: `grant_type=refresh_token&client_id=${encodeURIComponent(client.client_id)}&refresh_token=${pool.pop() ?? 'none-left'}`,
      }),
      onResponse: (status, body) => {
        // An error answer ends that chain (and shows as non-2xx).
        if (status === 200) pool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
      },
    },
  ];
}
