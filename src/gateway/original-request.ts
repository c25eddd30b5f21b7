// The request a gateway asks about, from the headers each gateway sends: nginx's auth_request
// (X-Original-Method, X-Original-URI, Host), Caddy's forward_auth and Traefik's ForwardAuth
// (X-Forwarded-Method, -Proto, -Host, -Uri), and Envoy's ext_authz (the original method, and the
// original path appended to the check's path). Only gateways reach GATEWAY_PORT, and their
// configurations replace the clients' own copies of these headers, so they are believed.
import type { IncomingHttpHeaders } from 'node:http';
import { invalidRequest } from '../http/errors.js';
import { AmbiguousTarget, readTarget, type PathSegments } from '../http/request-path.js';

export interface OriginalRequest {
  method: string;
  /** 'http' or 'https' (X-Forwarded-Proto; http when absent). */
  scheme: 'http' | 'https';
  /** Lower-cased, with the port if one was sent. */
  host: string;
  /** The path as sent, without the query: always origin-form (starts with one /). */
  path: string;
  /** The path's segments as every decision reads them (src/http/request-path.ts). */
  segments: PathSegments;
}

/**
 * `checkTarget` is the target the gateway asked (/gateway/check, or /gateway/check/<original target>
 * from Envoy, query included); `base` is the check endpoint's own path. nginx's X-Original-* win
 * over X-Forwarded-*.
 */
export function originalRequest(headers: IncomingHttpHeaders, method: string, checkTarget: string, base: string): OriginalRequest {
  const uri =
    single(headers['x-original-uri']) ??
    single(headers['x-forwarded-uri']) ??
    (checkTarget.startsWith(`${base}/`) ? checkTarget.slice(base.length) : undefined);
  if (uri === undefined) throw invalidRequest('the original request is unknown: send X-Original-URI (nginx) or X-Forwarded-Uri (Caddy, Traefik)');
  const originalMethod = (single(headers['x-original-method']) ?? single(headers['x-forwarded-method']) ?? method).toUpperCase();
  const host = (single(headers['x-forwarded-host'])?.split(',')[0]?.trim() ?? headers.host ?? '').toLowerCase();
  if (!host) throw invalidRequest('the original request has no host: send Host or X-Forwarded-Host');
  const proto = single(headers['x-forwarded-proto'])?.split(',')[0]?.trim().toLowerCase();
  return { method: originalMethod, scheme: proto === 'https' ? 'https' : 'http', host, ...target(uri) };
}

/** A target another server could read as another path is refused, before any token is looked at. */
function target(uri: string): { path: string; segments: PathSegments } {
  try {
    return readTarget(uri);
  } catch (err) {
    return refuseAmbiguous(err);
  }
}

/** An AmbiguousTarget, from reading the target or from matching rules, as invalid_request (400). */
export function refuseAmbiguous(err: unknown): never {
  if (err instanceof AmbiguousTarget)
    throw invalidRequest(`the original request's target is refused, since the API could read it as another path: ${err.message}`);
  throw err;
}

/**
 * The URL a DPoP proof's `htu` must name (RFC 9449 §4.3): scheme, host and path, without query or
 * fragment. The origin comes from `public_base_url` or the gateway's scheme and host, never from the
 * path: the path is appended to it as text, not resolved against it (which would read `//host/x`
 * as another host).
 */
export function proofUrl(request: OriginalRequest, publicBaseUrl?: string): string | undefined {
  const base = publicBaseUrl ? URL.parse(publicBaseUrl) : URL.parse(`${request.scheme}://${request.host}`);
  if (!base || !request.path.startsWith('/') || request.path.startsWith('//')) return undefined;
  const url = URL.parse(`${base.origin}${request.path}`);
  return url?.origin === base.origin ? url.href : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
