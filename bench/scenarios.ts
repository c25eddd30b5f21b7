// What is measured, the same way against both servers: autocannon request definitions.
import { randomBytes } from 'node:crypto';
import type { Request } from 'autocannon';

export interface Credentials {
  id: string;
  secret: string;
}

export interface Target {
  name: 'tollgate' | 'baseline';
  url: string;
  /** The client that gets and revokes tokens. */
  client: Credentials;
  /** The client that introspects: a resource server for Tollgate; the token's own client for the baseline. */
  introspector: Credentials;
}

export const basic = ({ id, secret }: Credentials) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

const form = (auth: Credentials, body: string): Request => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(auth) },
  body,
});

export async function issueOne(target: Target, scope?: string, resource?: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}), ...(resource ? { resource } : {}) });
  const response = await fetch(`${target.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(target.client) },
    body: form.toString(),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`${target.name}: no token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** Resource servers (RFC 8707) whose tokens are JWTs (RFC 9068), registered alike on both servers, by signing algorithm. */
export const JWT_RESOURCES = { RS256: 'https://bench.example/rs256', ES256: 'https://bench.example/es256' } as const;

/** client_credentials issuance of a JWT access token for `resource`. */
export function jwtIssuance(target: Target, resource: string): Request[] {
  return [{ ...form(target.client, `grant_type=client_credentials&resource=${encodeURIComponent(resource)}`), path: '/token' }];
}

/** client_credentials issuance; every token issued is kept (up to `keep`) for the revocation scenario. */
export function issuance(target: Target, issued: string[], keep: number): Request[] {
  return [
    {
      ...form(target.client, 'grant_type=client_credentials'),
      path: '/token',
      onResponse: (status, body) => {
        if (status === 200 && issued.length < keep) issued.push((JSON.parse(body) as { access_token: string }).access_token);
      },
    },
  ];
}

export function introspectActive(target: Target, token: string): Request[] {
  return [{ ...form(target.introspector, `token=${token}`), path: '/introspect' }];
}

export function introspectUnknown(target: Target): Request[] {
  return [{ ...form(target.introspector, `token=${randomBytes(32).toString('base64url')}`), path: '/introspect' }];
}

/** Revokes each token once, in order: run with `amount` no larger than `tokens.length`. */
export function revocation(target: Target, tokens: string[]): Request[] {
  let next = 0;
  return [
    {
      ...form(target.client, ''),
      path: '/revoke',
      setupRequest: (request) => ({ ...request, body: `token=${tokens[next++ % tokens.length]}` }),
    },
  ];
}

/** client_credentials requests naming the client with a different wrong secret each: a flood of argon2 verifications. */
export function wrongSecrets(target: Target): Request[] {
  return [
    {
      ...form(target.client, 'grant_type=client_credentials'),
      path: '/token',
      setupRequest: (request) => ({
        ...request,
        headers: { ...request.headers, authorization: basic({ id: target.client.id, secret: randomBytes(32).toString('base64url') }) },
      }),
    },
  ];
}

/** Where the gateway scenario's API lives, as the gateway forwards its requests. */
export const GATEWAY_API = { host: 'api.bench.example', path: '/items' };

/**
 * The gateway check of an API request with a remembered token, asked as nginx asks it; Tollgate's
 * counterpart of introspecting an active token.
 */
export function gatewayCheck(token: string): Request[] {
  return [
    {
      method: 'GET',
      path: '/gateway/check',
      headers: {
        authorization: `Bearer ${token}`,
        'x-original-method': 'GET',
        'x-original-uri': `${GATEWAY_API.path}/42?page=1`,
        host: GATEWAY_API.host,
        'x-forwarded-proto': 'https',
      },
    },
  ];
}
