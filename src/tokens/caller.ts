// Who is asking, for the token endpoints' own handlers: a client authenticated with
// client_secret_basic exactly as the provider would authenticate it (src/clients/authentication.ts).
import type { ParsedUrlQuery } from 'node:querystring';
import type { ClientAuthenticator } from '../clients/authentication.js';
import type { ClientService } from '../clients/service.js';
import { acceptedSecretHashes } from '../clients/views.js';
import type { Client } from '../db/database.js';
import { errorBody, HttpError } from '../http/errors.js';
import type { Answer, FormRequest } from '../http/pipeline.js';
import { recordFailure, type FailureRecording } from '../oidc/operations.js';
import type { LimitedEndpoint } from '../rate-limit/middleware.js';

/** Form parameters that authenticate a client some other way: the provider judges those. */
const AUTH_PARAMS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];

export interface CallerDeps {
  issuer: string;
  clients: ClientService;
  authenticator: ClientAuthenticator;
  /** Where refused requests are recorded. */
  operations: FailureRecording;
}

/** Why a caller is refused: a wrong secret or method (401), or it may not try now (429, 503). */
export interface Refusal {
  refused: 'invalid_client' | HttpError;
}

/**
 * The caller when it authenticates (its request budget of `endpoint` counted), a refusal, or
 * undefined when the request is the provider's to judge: other authentication, client
 * attestation, a CORS request (the provider checks the Origin against the client), an unknown
 * client (which the provider verifies against a dummy hash), a malformed header.
 */
export async function authenticateCaller(
  { form, headers, credentials, exchange }: FormRequest,
  { clients, authenticator }: CallerDeps,
  endpoint: LimitedEndpoint,
): Promise<Client | Refusal | undefined> {
  if (headers.origin !== undefined || headers['oauth-client-attestation'] !== undefined || headers['oauth-client-attestation-pop'] !== undefined)
    return undefined;
  if (AUTH_PARAMS.some((name) => name in form)) return undefined;
  if (!credentials) return undefined;
  const client = await clients.findActive(credentials.id);
  if (!client) return undefined;
  const holder = { facts: client, acceptedHashes: acceptedSecretHashes(client) };
  try {
    const authenticated = await authenticator.authenticate(credentials.id, holder, 'client_secret_basic', credentials.secret, { ip: exchange.ip, endpoint });
    return authenticated ? client : { refused: 'invalid_client' };
  } catch (err) {
    // A failure or request budget spent, or the argon2 gate full: answered as the provider answers them.
    if (err instanceof HttpError) return { refused: err };
    throw err;
  }
}

/**
 * The provider's answer to a refused caller, with the endpoint's headers: for a failed
 * client_secret_basic authentication, 401 with a Basic challenge (RFC 6749 §5.2), recorded as a
 * failed request of `endpoint`; for a 429 or 503, the error model's answer, not recorded.
 */
export function refuseCaller(
  request: FormRequest,
  deps: CallerDeps,
  endpoint: LimitedEndpoint,
  headers: Readonly<Record<string, string>>,
  { refused }: Refusal,
): Answer {
  if (refused instanceof HttpError) {
    return { status: refused.status, body: JSON.stringify(errorBody(refused)), headers: { ...headers, ...refused.headers, 'Cache-Control': 'no-store' } };
  }
  const grantType = endpoint === 'token' && single(request.form.grant_type) ? request.form.grant_type : undefined;
  recordFailure(deps.operations, request.origin, {
    endpoint,
    error: 'invalid_client',
    status: 401,
    caller: request.credentials?.id,
    grantType,
    authenticated: false,
  });
  const challenge = `Basic realm="${deps.issuer}", error="invalid_client", error_description="client authentication failed"`;
  return {
    status: 401,
    body: '{"error":"invalid_client","error_description":"client authentication failed"}',
    headers: { ...headers, 'WWW-Authenticate': challenge },
  };
}

/**
 * One opaque token and at most one hint, nothing else: an introspection or revocation the
 * handlers answer. A JWT-shaped value (with dots) and anything unusual are the provider's.
 */
export function isTokenQuery(form: ParsedUrlQuery): form is ParsedUrlQuery & { token: string } {
  const { token, token_type_hint: hint } = form;
  if (typeof token !== 'string' || token.includes('.') || Array.isArray(hint)) return false;
  return Object.keys(form).every((name) => name === 'token' || name === 'token_type_hint');
}

/** A form parameter sent once, as the provider requires of every parameter it reads. */
export function single(value: string | string[] | undefined): value is string {
  return typeof value === 'string';
}
