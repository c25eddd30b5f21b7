// What the request pipeline (src/http/pipeline.ts) knows about a request, for whoever answers it:
// its id, the client address, when it arrived. Koa reads it through exchangeOf(ctx.req).
import type { IncomingMessage } from 'node:http';

export interface Exchange {
  readonly requestId: string;
  /** The client's address (src/http/client-address.ts): the socket's, or a trusted proxy's word for it. Koa's ctx.ip reads it. */
  readonly ip: string;
  /** performance.now() when the request arrived. */
  readonly started: number;
  /** The path without its query, below the issuer's path (/token for ISSUER/token). */
  readonly path: string;
  /** A POST's client_secret_basic credentials, decoded once (src/http/basic-auth.ts), if it has well-formed ones. */
  credentials?: { readonly id: string; readonly secret: string };
}

/** The part of a Koa context (or a request the pipeline answers) that names its source: address and request id, as audit events record them. */
export interface RequestLike {
  ip: string;
  state: { requestId?: string };
}

const EXCHANGE = Symbol('tollgate.exchange');
type Carrier = IncomingMessage & { [EXCHANGE]?: Exchange };

export function attachExchange(req: IncomingMessage, exchange: Exchange): void {
  (req as Carrier)[EXCHANGE] = exchange;
}

/** The pipeline's record of a request; every request Koa sees came through the pipeline. */
export function exchangeOf(req: IncomingMessage): Exchange {
  const exchange = (req as Carrier)[EXCHANGE];
  if (!exchange) throw new Error('request did not come through the request pipeline');
  return exchange;
}
