// Client authentication with a secret, for oidc-provider's compareClientSecret and for Tollgate's
// own token handlers alike: the registered method only (src/tokens/policy.ts), argon2 through the
// one SecretVerifier, and each failure counted against the client's failure budget.
import type { RateLimits } from '../rate-limit/limits.js';
import { mayAuthenticateWith, type ClientFacts } from '../tokens/policy.js';
import type { SecretVerifier } from './secrets.js';

export type SecretMethod = 'client_secret_basic' | 'client_secret_post';

export class ClientAuthenticator {
  constructor(
    private readonly secrets: SecretVerifier,
    private readonly limits: RateLimits,
  ) {}

  /** Whether `presented`, sent by `method`, authenticates `client`, whose secret may match `acceptedHashes`. */
  async authenticate(client: Pick<ClientFacts, 'id' | 'tokenEndpointAuthMethod'>, method: SecretMethod, presented: string, acceptedHashes: readonly string[]): Promise<boolean> {
    const valid = mayAuthenticateWith(client, method) && (await this.secrets.verify(client.id, presented, acceptedHashes));
    if (!valid) await this.limits.penalize('client_auth_failures', client.id);
    return valid;
  }
}
