// How the provider checks a client secret. Its own compareClientSecret compares with the stored
// plaintext; Tollgate keeps only argon2id hashes, so the method is replaced on the Client model.
import type Provider from 'oidc-provider';
import { expectShape, isFunction } from './shape.js';

export type ProviderClient = InstanceType<Provider['Client']>;

export function checkClientSecretComparison(provider: Provider): void {
  expectShape(isFunction(provider.Client?.prototype?.compareClientSecret), 'Client.prototype.compareClientSecret not found');
}

/** Every client secret the provider checks (client_secret_basic and client_secret_post) goes to `compare`. */
export function replaceClientSecretComparison(provider: Provider, compare: (client: ProviderClient, presented: string) => Promise<boolean>): void {
  checkClientSecretComparison(provider);
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: ProviderClient, presented: string) {
    return compare(this, presented);
  };
}
