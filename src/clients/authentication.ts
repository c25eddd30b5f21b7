// Client authentication with a secret, for oidc-provider's compareClientSecret and for Tollgate's
// own token handlers alike: the registered method only (src/tokens/policy.ts), argon2 through the
// one SecretVerifier and its gate, and the failure budgets in front of argon2.
//
// A remembered secret (one this process verified before, and still accepted) is answered first,
// before any failure budget: it costs no argon2 and proves the caller holds the secret, so
// refusing it would protect nothing and would let anyone who shares an address, or who guesses
// at the client's id, lock the client out. Every other attempt is refused while its address, or
// this client at this address, has used up its failure budget; a wrong one counts against the
// client at this address (the request pipeline counts every failed authentication against the
// address). No budget is ever counted per client alone.
import { addressKey, atAddress, type RateLimits } from '../rate-limit/limits.js';
import type { ClientEndpoint } from '../http/endpoints.js';
import { limitClientRequest } from '../rate-limit/middleware.js';
import { mayAuthenticateWith, type ClientFacts } from '../tokens/policy.js';
import type { SecretVerifier } from './secrets.js';

export type SecretMethod = 'client_secret_basic' | 'client_secret_post';

/** Where an authentication comes from: the address, and the endpoint whose budget an authenticated client spends. */
export interface AuthenticationOrigin {
  ip: string;
  endpoint?: ClientEndpoint;
}

/** A registered client and the secret hashes it accepts. */
export interface SecretHolder {
  facts: Pick<ClientFacts, 'id' | 'tokenEndpointAuthMethod'>;
  acceptedHashes: readonly string[];
}

export class ClientAuthenticator {
  constructor(
    private readonly secrets: SecretVerifier,
    private readonly limits: RateLimits,
  ) {}

  /**
   * Whether `presented`, sent by `method`, authenticates the client named `clientId` (`client`
   * undefined: no such client, which costs one argon2 verification all the same). Throws 429 past
   * a failure budget or, once authenticated, past the client's request budget of the endpoint, and
   * 503 when the argon2 gate is full.
   */
  async authenticate(
    clientId: string,
    client: SecretHolder | undefined,
    method: SecretMethod,
    presented: string,
    origin: AuthenticationOrigin,
  ): Promise<boolean> {
    const hashes = client && mayAuthenticateWith(client.facts, method) ? client.acceptedHashes : [];
    if (!this.secrets.isRemembered(clientId, presented, hashes)) {
      // The failure budgets matter only to a secret not verified before: a remembered one is never a guess.
      const pair = atAddress(clientId, origin.ip);
      await this.limits.check('client_auth_failures_ip', addressKey(origin.ip));
      await this.limits.check('client_auth_failures', pair);
      if (!(await this.secrets.verify(clientId, presented, hashes))) {
        await this.limits.penalize('client_auth_failures', pair);
        return false;
      }
    }
    if (origin.endpoint) await limitClientRequest(this.limits, origin.endpoint, clientId);
    return true;
  }
}
