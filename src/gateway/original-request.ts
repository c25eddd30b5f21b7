// The request a gateway asks about, from the headers each gateway sends: nginx's auth_request
// (X-Original-Method, X-Original-URI, Host), Caddy's forward_auth and Traefik's ForwardAuth
// (X-Forwarded-Method, -Proto, -Host, -Uri), and Envoy's ext_authz (the original method, and the
// original path appended to the check's path). Only gateways reach GATEWAY_PORT, and their
// configurations replace the clients' own copies of these headers, so they are believed.
import type { IncomingHttpHeaders } from 'node:http';
import { invalidRequest } from '../http/errors.js';

export interface OriginalRequest {
  method: string;
  /** 'http' or 'https' (X-Forwarded-Proto; http when absent). */
  scheme: 'http' | 'https';
  /** Lower-cased, with the port if one was sent. */
  host: string;
  /** The path as sent, without the query. */
  path: string;
}

/**
 * `checkPath` is the path the gateway asked (/gateway/check, or /gateway/check/<original path> from
 * Envoy); `base` is the check endpoint's own path. nginx's X-Original-* win over X-Forwarded-*.
 */
export function originalRequest(headers: IncomingHttpHeaders, method: string, checkPath: string, base: string): OriginalRequest {
  const uri = single(headers['x-original-uri']) ?? single(headers['x-forwarded-uri']) ?? (checkPath.length > base.length ? checkPath.slice(base.length) : undefined);
  if (uri === undefined || !uri.startsWith('/')) throw invalidRequest('the original request is unknown: send X-Original-URI (nginx) or X-Forwarded-Uri (Caddy, Traefik)');
  const originalMethod = (single(headers['x-original-method']) ?? single(headers['x-forwarded-method']) ?? method).toUpperCase();
  const host = (single(headers['x-forwarded-host'])?.split(',')[0]?.trim() ?? headers.host ?? '').toLowerCase();
  if (!host) throw invalidRequest('the original request has no host: send Host or X-Forwarded-Host');
  const proto = single(headers['x-forwarded-proto'])?.split(',')[0]?.trim().toLowerCase();
  const query = uri.search(/[?#]/);
  return { method: originalMethod, scheme: proto === 'https' ? 'https' : 'http', host, path: query === -1 ? uri : uri.slice(0, query) };
}

/** The URL a DPoP proof's `htu` must name (RFC 9449 §4.3): scheme, host and path, without query or fragment. */
export function proofUrl(request: OriginalRequest, publicBaseUrl?: string): string | undefined {
  const base = publicBaseUrl ? URL.parse(publicBaseUrl) : URL.parse(`${request.scheme}://${request.host}`);
  if (!base) return undefined;
  return URL.parse(request.path, base.origin)?.href;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
