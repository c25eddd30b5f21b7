import { addressKey, type RateLimits } from './limits.js';

export type LimitedEndpoint = 'token' | 'introspect' | 'revoke';

/**
 * A token endpoint request's budget per address, which the request pipeline counts for every
 * request, before anything is read. A client's own budget counts only the requests it
 * authenticated (`limitClientRequest`), so nobody spends it by naming the client.
 */
export async function limitEndpointRequest(limits: RateLimits, endpoint: LimitedEndpoint, ip: string): Promise<void> {
  await limits.consume(`${endpoint}_ip`, addressKey(ip));
}

/** An authenticated client's request budget of an endpoint. */
export async function limitClientRequest(limits: RateLimits, endpoint: LimitedEndpoint, clientId: string): Promise<void> {
  await limits.consume(`${endpoint}_client`, clientId);
}
