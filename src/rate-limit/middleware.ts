import type { ClientEndpoint } from '../http/endpoints.js';
import type { RateLimits } from './limits.js';

/**
 * An authenticated client's request budget of an endpoint. Only the requests it authenticated count,
 * so nobody spends it by naming the client; the request pipeline counts every request against the
 * address's budget, before anything is read.
 */
export async function limitClientRequest(limits: RateLimits, endpoint: ClientEndpoint, clientId: string): Promise<void> {
  await limits.consume(`${endpoint}_client`, clientId);
}
