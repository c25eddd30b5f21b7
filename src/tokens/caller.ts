// Who is asking, for the token endpoints' own handlers: a client authenticated with
// client_secret_basic exactly as the provider would authenticate it (src/clients/authentication.ts).
import type { ParsedUrlQuery } from 'node:querystring';
import type { ClientAuthenticator } from '../clients/authentication.js';
import type { ClientService } from '../clients/service.js';
import { acceptedSecretHashes } from '../clients/views.js';
import type { Client } from '../db/database.js';
import { type Answer, challenge, errorAnswer } from '../http/answers.js';
import { HttpError, httpErrorOf } from '../http/errors.js';
import type { FormRequest } from '../http/pipeline.js';
import { recordFailure, type FailureRecording } from '../oidc/operations.js';
import type { ClientEndpoint } from '../http/endpoints.js';
import { PROVIDERS, type Outcome } from './steps.js';

/** Form parameters that authenticate a client some other way: the provider judges those. */
const AUTH_PARAMS = ['client_id', 'client_secret', 'client_assertion', 'client_assertion_type'];

export interface CallerDeps {
  issuer: string;
  clients: ClientService;
  authenticator: ClientAuthenticator;
  /** Where refused requests are recorded. */
  operations: FailureRecording;
}

/** What a token endpoint's handler knows of its endpoint, made once: its name, the headers of its answers, its 401. */
export interface TokenEndpoint {
  /** Its request budgets and its name in the audit trail and metrics. */
  readonly name: ClientEndpoint;
  /** The provider's CORS headers for the endpoint (src/http/answers.ts). */
  readonly headers: Readonly<Record<string, string>>;
  /** A failed client_secret_basic authentication: 401 with a Basic challenge (RFC 6749 §5.2). */
  readonly unauthenticated: Answer;
}

export function tokenEndpoint(name: ClientEndpoint, headers: Readonly<Record<string, string>>, issuer: string): TokenEndpoint {
  const description = 'client authentication failed';
  const failed = new HttpError(401, 'invalid_client', description, {
    headers: { 'WWW-Authenticate': challenge('Basic', { realm: issuer, error: 'invalid_client', error_description: description }) },
  });
  return { name, headers, unauthenticated: errorAnswer(failed, headers) };
}

/** What every token endpoint's steps share: the request, the endpoint's dependencies, and the caller once authenticated. */
export interface CallerState<D extends CallerDeps = CallerDeps> {
  readonly request: FormRequest;
  readonly deps: D & { readonly endpoint: TokenEndpoint };
  caller: Client | undefined;
}

/**
 * The step that authenticates the caller (its request budget of the endpoint counted) or answers
 * its refusal as the provider would. The request is the provider's to judge with other
 * authentication, client attestation, a CORS request (the provider checks the Origin against the
 * client), an unknown client (which the provider verifies against a dummy hash), a malformed header.
 */
export async function authenticateCaller(state: CallerState): Promise<Outcome> {
  const { form, headers, credentials, exchange } = state.request;
  const { clients, authenticator, endpoint } = state.deps;
  if (headers.origin !== undefined || headers['oauth-client-attestation'] !== undefined || headers['oauth-client-attestation-pop'] !== undefined)
    return PROVIDERS;
  if (AUTH_PARAMS.some((name) => name in form)) return PROVIDERS;
  if (!credentials) return PROVIDERS;
  const client = await clients.findActive(credentials.id);
  if (!client) return PROVIDERS;
  const holder = { facts: client, acceptedHashes: acceptedSecretHashes(client) };
  let authenticated: boolean;
  try {
    authenticated = await authenticator.authenticate(credentials.id, holder, 'client_secret_basic', credentials.secret, {
      ip: exchange.ip,
      endpoint: endpoint.name,
    });
  } catch (err) {
    // A failure or request budget spent, or the argon2 gate full: answered as the provider answers
    // them, and not recorded (each would flood the trail).
    const refusal = httpErrorOf(err);
    if (refusal) return errorAnswer(refusal, endpoint.headers);
    throw err;
  }
  if (authenticated) {
    state.caller = client;
    return undefined;
  }
  return refuseUnauthenticated(state);
}

/** A failed client_secret_basic authentication: the endpoint's 401, recorded as a failed request. */
function refuseUnauthenticated({ request, deps }: CallerState): Answer {
  const { endpoint } = deps;
  const grantType = endpoint.name === 'token' && single(request.form.grant_type) ? request.form.grant_type : undefined;
  recordFailure(deps.operations, request.origin, {
    endpoint: endpoint.name,
    error: 'invalid_client',
    status: 401,
    caller: request.credentials?.id,
    grantType,
    authenticated: false,
  });
  return endpoint.unauthenticated;
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
