// Small HTTP helpers for talking OAuth to a test server the way a client would.
import { expect } from 'vitest';
import { ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET } from './tollgate.js';

export const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

async function result<T>(response: Response): Promise<HttpResult<T>> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: kept as text so a test can assert on it
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

/** POSTs a form to `path`, authenticating with client_secret_basic when `auth` is given. */
export async function postForm(base: string, path: string, form: Record<string, string>, auth?: [string, string]) {
  return result<Record<string, unknown>>(
    await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: basic(...auth) } : {}) },
      body: new URLSearchParams(form).toString(),
    }),
  );
}

export async function clientCredentialsToken(base: string, id: string, secret: string, scope?: string) {
  return postForm(base, '/token', { grant_type: 'client_credentials', ...(scope ? { scope } : {}) }, [id, secret]);
}

export async function adminToken(base: string): Promise<string> {
  const response = await clientCredentialsToken(base, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, 'admin');
  if (response.status !== 200) throw new Error(`admin token: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.access_token as string;
}

/** Calls the admin API with a bearer token (the admin token unless one is given). */
export async function admin(base: string, method: string, path: string, body?: unknown, token?: string) {
  return result<Record<string, unknown>>(
    await fetch(`${base}/admin${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token ?? (await adminToken(base))}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

export interface RegisteredClient {
  client_id: string;
  client_secret: string;
  [key: string]: unknown;
}

export async function registerClient(base: string, metadata: Record<string, unknown> = {}): Promise<RegisteredClient> {
  const response = await admin(base, 'POST', '/clients', { client_name: 'test client', ...metadata });
  if (response.status !== 201) throw new Error(`register client: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as RegisteredClient;
}

/** An error answer: `status`, an RFC 6749 §5.2 body, and the offending `field` when one is named. */
export function expectError(response: HttpResult, status: number, field?: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body.error).toEqual(expect.any(String));
  expect(response.body.error_description).toEqual(expect.any(String));
  if (field) expect(response.body.field).toBe(field);
}
