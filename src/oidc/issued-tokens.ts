import type Provider from 'oidc-provider';
import type { TokenEntity } from './operations.js';

/** A token the provider issued, as its model found it: enough to decide on it and to destroy it. */
export interface IssuedToken extends TokenEntity {
  kind: 'AccessToken' | 'ClientCredentials' | 'RefreshToken';
  clientId: string;
  /** Deletes it, and tells every instance's caches (the provider's `*.destroyed` events). */
  destroy(): Promise<void>;
}

/**
 * Finds a token value among the provider's access, client credentials and refresh tokens, through
 * its models, as its revocation endpoint does: a value is at most one of them, and the three
 * look-ups of one moment go to the database as one statement (src/tokens/store/batched-rows.ts).
 */
export function issuedTokenFinder(provider: Provider): (value: string) => Promise<IssuedToken | undefined> {
  return async (value) => {
    const found = await Promise.all([provider.AccessToken.find(value), provider.ClientCredentials.find(value), provider.RefreshToken.find(value)]);
    return found.find(Boolean) as IssuedToken | undefined;
  };
}
