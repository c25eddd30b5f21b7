// The client's address, derived once per request by the pipeline (Exchange.ip). Behind proxies
// that append to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for, cloud load balancers), only
// the entries the trusted proxies added are believed: the walk starts at the TCP peer and moves
// leftwards while the current hop is a trusted proxy; the first hop that is not is the client.
// Whatever the client wrote further left is never read.
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';

/** A hop count, or the proxies' addresses and CIDR ranges (Config.trustedProxies). */
export type TrustedProxies = number | readonly string[];

export type ClientAddress = (req: IncomingMessage) => string;

export function clientAddressOf(trusted: TrustedProxies): ClientAddress {
  const trust = typeof trusted === 'number' ? (_address: string, hop: number) => hop < trusted : trusted.length ? proxyaddr.compile([...trusted]) : undefined;
  if (!trust) return (req) => plainAddress(req.socket.remoteAddress ?? '');
  return (req) => {
    const hops = proxyaddr.all(req, trust);
    // The last hop is the client; an entry that is no address (the client's own junk, reached
    // through a hop count or a trusted client) falls back to the proxy that reported it.
    for (let i = hops.length - 1; i >= 0; i--) {
      const address = plainAddress(hops[i]!);
      if (isIP(address)) return address;
    }
    return '';
  };
}

/** 1.2.3.4:80 → 1.2.3.4, [::1]:80 → ::1, ::ffff:1.2.3.4 → 1.2.3.4: one address, one spelling. */
function plainAddress(entry: string): string {
  const address = /^\[([^\]]+)\](?::\d+)?$/.exec(entry)?.[1] ?? /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(entry)?.[1] ?? entry;
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address;
}
