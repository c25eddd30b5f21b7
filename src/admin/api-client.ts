// The admin CLI's one way to do anything: a request to the admin API, over a connection to a
// running server's admin socket or to the same router run in this process (src/admin/direct-api.ts).
import { request } from 'node:http';
import type { Duplex } from 'node:stream';
import { HttpError } from '../http/errors.js';

export interface AdminRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path under /admin, its parameters already encoded, e.g. `/clients/billing`. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
}

/** Sends one request; resolves to the answer's JSON (undefined for 204), rejects with the HttpError it answered. */
export type AdminApi = (request: AdminRequest) => Promise<unknown>;

/** One path segment: an id, a username or an email address as typed. */
export const segment = (value: string) => encodeURIComponent(value);

/** A request longer than this has a server that hangs: the CLI says so rather than waiting forever. */
const REQUEST_TIMEOUT_MS = 120_000;

/** The admin API over connections that `connect` opens, one per request. */
export function adminApiOver(connect: () => Duplex): AdminApi {
  return ({ method, path, query = {}, body }) => {
    const search = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          method,
          path: `/admin${path}${search ? `?${search}` : ''}`,
          // The Host header is required; no name resolution happens: with createConnection and no agent, the connection is given.
          host: 'localhost',
          createConnection: () => connect(),
          headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('error', reject);
          res.on('end', () => {
            try {
              resolve(answer(res.statusCode ?? 0, text));
            } catch (err) {
              reject(err);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`the server did not answer ${method} /admin${path} within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      req.end(payload);
    });
  };
}

/** The JSON of a success, or the HttpError an RFC 6749 error body describes. */
function answer(status: number, text: string): unknown {
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new Error(`the server answered ${status} with a body that is not JSON`);
  }
  if (status >= 200 && status < 300) return json;
  const error = (json ?? {}) as { error?: unknown; error_description?: unknown; field?: unknown };
  if (typeof error.error !== 'string' || typeof error.error_description !== 'string') throw new Error(`the server answered ${status}`);
  throw new HttpError(status, error.error, error.error_description, { field: typeof error.field === 'string' ? error.field : undefined });
}
