import type Provider from 'oidc-provider';
import type { TokenStore } from '../tokens/store/token-store.js';
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

/**
 * Revokes a client_credentials token if it was issued to `clientId`, with what the provider's
 * model does on destroy (the row deleted, then `destroyed` told, which every instance's caches
 * hear) but in one conditional statement instead of three look-ups and a delete.
 */
export function ownTokenRevoker(tokens: TokenStore, destroyed: (value: string) => Promise<void>) {
  return async (value: string, clientId: string): Promise<TokenEntity | undefined> => {
    const entry = await tokens.revokeIssuedTo('ClientCredentials', value, clientId);
    if (!entry) return undefined;
    await destroyed(value);
    return entry as TokenEntity;
  };
}
