// Every request Tollgate serves passes through this one pipeline, whoever answers it: the request
// id, the security headers, the path below the issuer's, method and body checks, the client
// address (src/http/client-address.ts), the token endpoints' rate
// limits, the request log line, the metrics, and the error model's JSON for anything that fails.
// Then one of two answers it: an endpoint's own handler (src/tokens/*-handler.ts), for the
// requests it takes, or Koa with oidc-provider and Tollgate's routers for everything else. Both
// get the same treatment because both are called from here, not because both call the same helpers.
import { IncomingMessage, type IncomingHttpHeaders, type RequestListener, type ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import type Router from '@koa/router';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/metrics.js';
import { countRequest } from '../metrics/http.js';
import { addressKey, type LimitName, type RateLimits } from '../rate-limit/limits.js';
import { basicCredentials } from './basic-auth.js';
import { checkFormParameters } from './bodies.js';
import { clientAddressOf, type TrustedProxies } from './client-address.js';
import { type Answer, errorAnswer } from './answers.js';
import type { EndpointId } from './endpoints.js';
import { answerFor, HttpError, methodNotAllowed, noSuchEndpoint, STANDARD_METHODS } from './errors.js';
import { attachExchange, type Exchange, exchangeOf, type RequestLike } from './exchange.js';
import { loggedPath, requestIdFor, requestLineLogger, securityHeaderValues } from './middleware.js';
import { requestLabels } from './route-labels.js';
import { MAX_BODY_BYTES } from './validate.js';

const BODILESS = new Set(['GET', 'HEAD', 'OPTIONS']);
const UTF8_FORM = /^application\/x-www-form-urlencoded\s*(;\s*charset=utf-8\s*)?$/i;

/** A POST form to an endpoint with a handler of its own. */
export interface FormRequest {
  /** Its parameters; an empty one is left out, as oidc-provider leaves it out. */
  form: ParsedUrlQuery;
  headers: IncomingHttpHeaders;
  /** Its client_secret_basic credentials, decoded once (src/http/basic-auth.ts). */
  credentials: { id: string; secret: string } | undefined;
  /** For the audit trail: the address and request id. */
  origin: RequestLike;
  exchange: Exchange;
}

/** Answers the requests it takes; undefined leaves the request to Koa and the provider. */
export type FormHandler = (request: FormRequest) => Promise<Answer | undefined>;

/** Answers every request of its path from the request's headers, whatever the method (the gateway check). */
export type HeaderHandler = (req: IncomingMessage, exchange: Exchange) => Promise<Answer>;

/** An endpoint as the pipeline serves it, derived from its registry entry (src/http/endpoint-table.ts). */
export interface Endpoint {
  id: EndpointId;
  /** The methods the path answers; another is 405 with Allow. None: any standard method. */
  methods?: readonly string[];
  /** Its budget per address, counted before anything is read: for every request `answer` takes, or for its POST requests. */
  addressBudget?: LimitName;
  /** Its requests authenticate clients: a 401 counts against the address's client-authentication failures. */
  authenticatesClients: boolean;
  handler?: FormHandler;
  /** Answers every request of the path itself, from its headers: nothing else sees them. */
  answer?: HeaderHandler;
  /** The paths below this one are the endpoint's too (Envoy's ext_authz appends the original path). */
  prefix?: boolean;
  /** Headers every answer of the path carries, whoever gives it. */
  headers?: Readonly<Record<string, string>>;
}

export interface PipelineDeps {
  /** By their path below the issuer's (/token for ISSUER/token). */
  endpoints: Readonly<Record<string, Endpoint>>;
  /** Paths that are their own label in the log and the metrics (src/http/route-labels.ts). */
  knownPaths: ReadonlySet<string>;
  /** Koa's routers behind the pipeline: their route patterns label their paths, whoever answers. */
  routers?: readonly Router[];
  issuer: string;
  /** The issuer's path ('' for none): every path served is under it, and seen below it from here on. */
  issuerPath: string;
  /** Well-known paths served outside the issuer's path, with it appended (RFC 8414 §3.1). */
  wellKnown: readonly string[];
  /** Whose X-Forwarded-For entries are believed. */
  trustedProxies: TrustedProxies;
  limits: RateLimits;
  metrics: Metrics;
  log: Logger;
}

export interface Pipeline {
  listener: RequestListener;
  /** What it is built from, so that another listener can be built over the same parts with other endpoints. */
  readonly deps: PipelineDeps;
}

/**
 * The pipeline in front of `koa`; without it (a listener that serves only its endpoints' own
 * answers, like GATEWAY_PORT's) whatever no endpoint answers is 404.
 */
export function requestPipeline(deps: PipelineDeps, koa?: RequestListener): Pipeline {
  const { limits, metrics, log } = deps;
  const endpoints = new Map(Object.entries(deps.endpoints));
  const prefixed = [...endpoints].filter(([, endpoint]) => endpoint.prefix);
  const endpointOf = (path: string) => endpoints.get(path) ?? (prefixed.length ? prefixed.find(([prefix]) => path.startsWith(`${prefix}/`))?.[1] : undefined);
  const others: RequestListener = (req, res) => {
    if (!koa) throw noSuchEndpoint();
    const { requestId, path } = exchangeOf(req);
    res.setHeader('X-Request-Id', requestId);
    for (const [name, value] of Object.entries(headersOf(path))) res.setHeader(name, value);
    koa(req, res);
  };
  const securityHeaders = securityHeaderValues(deps.issuer);
  const lines = requestLineLogger(log);
  const labelOf = requestLabels({ known: deps.knownPaths, prefixes: prefixed.map(([prefix]) => prefix), routers: deps.routers });
  const clientAddress = clientAddressOf(deps.trustedProxies);
  const localPath = pathsBelow(deps.issuerPath, deps.wellKnown);
  /**
   * The headers every answer of an endpoint carries, the security headers and its own, made once per
   * endpoint: the pipeline's own answers pass them to writeHead in one object, as a bare node:http
   * server would, rather than a setHeader each.
   */
  const answerHeaders = new Map([...endpoints.values()].map((endpoint) => [endpoint, { ...securityHeaders, ...endpoint.headers }]));
  const headersOf = (path: string): Readonly<Record<string, string>> => {
    const endpoint = endpointOf(path);
    return (endpoint && answerHeaders.get(endpoint)) ?? securityHeaders;
  };

  function listener(req: IncomingMessage, res: ServerResponse): void {
    const [exchange, underIssuer] = begin(req, res);
    // A path outside the issuer's is no endpoint's.
    const answered = underIssuer ? serve(req, res, exchange) : Promise.reject(noSuchEndpoint());
    answered.catch((err: unknown) => fail(res, exchange, err, underIssuer));
  }

  /** The request's exchange, and whether its path is under the issuer's. */
  function begin(req: IncomingMessage, res: ServerResponse): [Exchange, boolean] {
    const target = req.url ?? '/';
    const url = originForm(target);
    const query = url.indexOf('?');
    const requested = query === -1 ? url : url.slice(0, query);
    const path = localPath(requested);
    // Everything behind the pipeline (Koa, the provider's router) sees the path below the issuer's.
    const local = path === undefined ? target : query === -1 ? path : path + url.slice(query);
    if (local !== target) req.url = local;
    const requestId = requestIdFor(firstValue(req.headers['x-request-id']));
    const exchange: Exchange = { requestId, ip: clientAddress(req), started: performance.now(), path: path ?? requested };
    attachExchange(req, exchange);
    res.once('close', () => finish(req.method ?? '', res.statusCode, exchange));
    return [exchange, path !== undefined];
  }

  async function serve(req: IncomingMessage, res: ServerResponse, exchange: Exchange): Promise<void> {
    const endpoint = endpointOf(exchange.path);
    const method = req.method ?? '';
    checkMethod(method, endpoint);
    checkBodyLength(req, method);
    if (endpoint?.answer) {
      if (endpoint.addressBudget) await limits.consume(endpoint.addressBudget, addressKey(exchange.ip));
      const answer = await endpoint.answer(req, exchange);
      return send(res, exchange, answer.status ?? 200, method === 'HEAD' ? '' : answer.body, answer.headers);
    }
    if (method !== 'POST' || !(endpoint?.handler || endpoint?.addressBudget)) return others(req, res);
    const credentials = basicCredentials(req.headers.authorization);
    exchange.credentials = credentials;
    if (endpoint.addressBudget) await limits.consume(endpoint.addressBudget, addressKey(exchange.ip));
    if (!endpoint.handler || exchange.path !== req.url || !UTF8_FORM.test(req.headers['content-type'] ?? '')) {
      return others(req, res);
    }
    const body = await readBody(req);
    const form = formParameters(body);
    const answer = await endpoint.handler({
      form,
      headers: req.headers,
      credentials,
      origin: { ip: exchange.ip, state: { requestId: exchange.requestId } },
      exchange,
    });
    if (!answer) return others(replay(req, body), res);
    metrics.handlerAnswers.inc({ endpoint: endpoint.id });
    send(res, exchange, answer.status ?? 200, answer.body, answer.headers);
  }

  /** An error's answer; outside the issuer's path no endpoint's headers apply, whatever the path's name. */
  function fail(res: ServerResponse, exchange: Exchange, err: unknown, underIssuer = true): void {
    const answer = errorAnswer(answerFor(err, { metrics, log }, exchange.requestId));
    if (res.headersSent) return void res.destroy();
    send(res, exchange, answer.status, answer.body, answer.headers, underIssuer ? headersOf(exchange.path) : securityHeaders);
  }

  /** An answer of the pipeline's own (a handler's, or an error), with the headers every answer of its endpoint carries. */
  function send(
    res: ServerResponse,
    exchange: Exchange,
    status: number,
    body: string,
    headers: Readonly<Record<string, string>> = {},
    base: Readonly<Record<string, string>> = headersOf(exchange.path),
  ): void {
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'X-Request-Id': exchange.requestId,
      ...base,
      ...headers,
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  function finish(method: string, status: number, exchange: Exchange): void {
    const { requestId, path, started } = exchange;
    // Known paths as they are, routes by their pattern (no ids); any other path logged without what could be a credential.
    const label = labelOf(path);
    lines.info({ requestId, method, path: label ?? loggedPath(path), status, ms: Math.round(performance.now() - started) }, 'request');
    countRequest(metrics, label ?? 'other', method, status, started);
    // Failed client authentications count against the address, whoever answered them (unknown ids too).
    if (status === 401 && endpoints.get(path)?.authenticatesClients) void limits.penalize('client_auth_failures_ip', addressKey(exchange.ip));
  }

  return { listener, deps };
}

function checkMethod(method: string, endpoint: Endpoint | undefined): void {
  if (endpoint?.methods && !endpoint.methods.includes(method)) throw methodNotAllowed(endpoint.methods);
  if (!STANDARD_METHODS.includes(method)) throw methodNotAllowed(STANDARD_METHODS);
}

/**
 * Bodies over 16 KiB are refused before anything reads them, and so are bodies of unknown length
 * and compressed bodies (no client of an authorization server needs them; a decoder is one more parser).
 */
function checkBodyLength(req: IncomingMessage, method: string): void {
  if (BODILESS.has(method)) return;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && !/^\s*identity\s*$/i.test(encoding))
    throw new HttpError(415, 'invalid_request', 'request bodies must not be compressed (Content-Encoding)');
  const length = req.headers['content-length'];
  if (length === undefined) {
    if (req.headers['transfer-encoding']) throw new HttpError(411, 'invalid_request', 'Content-Length is required');
    return;
  }
  if (!/^\d{1,9}$/.test(length)) throw new HttpError(400, 'invalid_request', 'invalid Content-Length');
  if (Number(length) > MAX_BODY_BYTES) throw new HttpError(413, 'invalid_request', `request body exceeds ${MAX_BODY_BYTES} bytes`);
}

/** The request target in origin form: an absolute-form target (RFC 9112 §3.2.2) loses the scheme and host, which ISSUER decides. */
function originForm(target: string): string {
  if (target.startsWith('/')) return target;
  const url = URL.parse(target);
  return url && (url.protocol === 'http:' || url.protocol === 'https:') ? url.pathname + url.search : target;
}

/**
 * A requested path → the path below the issuer's (/auth/token → /token for ISSUER=https://…/auth),
 * or undefined outside it. Outside it only the well-known paths with the issuer's path appended are
 * served (/.well-known/oauth-authorization-server/auth → /.well-known/oauth-authorization-server).
 */
function pathsBelow(root: string, wellKnown: readonly string[]): (path: string) => string | undefined {
  if (!root) return (path) => path;
  const appended = new Map(wellKnown.map((path) => [`${path}${root}`, path]));
  return (path) => (path === root ? '/' : path.startsWith(`${root}/`) ? path.slice(root.length) : appended.get(path));
}

function firstValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

/** A request's whole body; its length was checked against Content-Length, which Node's parser enforces. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', () => reject(new HttpError(400, 'invalid_request', 'failed to read the request body')));
  });
}

/** A form's parameters as oidc-provider reads them: an empty value is no value. */
function formParameters(body: Buffer): ParsedUrlQuery {
  const text = body.toString('utf8');
  checkFormParameters(text);
  const form = parseQuery(text);
  for (const name of Object.keys(form)) if (form[name] === '') delete form[name];
  return form;
}

/**
 * The request again, with the body that was read, for Koa: the provider reads its body from the
 * stream as it would from the network.
 */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  Object.assign(copy, {
    method: req.method,
    url: req.url,
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    complete: true,
  });
  attachExchange(copy, exchangeOf(req));
  copy.push(body);
  copy.push(null);
  return copy;
}
