// The provider's signing keys, changed while it runs. oidc-provider takes `jwks` once, at
// construction, into a private KeyStore that every signature and verification consults (by alg,
// and kid when verifying) and a private public-JWKS copy that /jwks serves. Rotation changes both
// in place: the KeyStore is emptied and refilled (KeyStore.clear/add), and its selectForSign offers
// only the keys that are to sign, so a published `next` or `previous` key verifies but never signs.
import type { JWK } from 'oidc-provider';
import type Provider from 'oidc-provider';
import { expectShape, isFunction, privateState } from './shape.js';

interface ProviderKeyStore {
  selectForSign(options: { alg?: string; kid?: string }): JWK[];
  selectForVerify(options: { alg?: string; kid?: string }): JWK[];
  clear(): void;
  add(key: JWK): void;
}

/** A key for the provider: its private JWK, and whether it signs (`current`) or only verifies. */
export interface PhasedKey {
  jwk: JWK;
  signs: boolean;
}

/** What /jwks publishes of a key, as oidc-provider itself renders it: no private member. */
const PUBLIC_MEMBERS = ['kty', 'use', 'kid', 'alg', 'crv', 'e', 'n', 'x', 'y'] as const;

function keystoreOf(provider: Provider): ProviderKeyStore | undefined {
  return privateState(provider)?.keystore as ProviderKeyStore | undefined;
}

export function checkKeystore(provider: Provider): void {
  const state = privateState(provider);
  const keystore = keystoreOf(provider);
  expectShape(
    ['selectForSign', 'selectForVerify', 'clear', 'add'].every((name) => isFunction((keystore as unknown as Record<string, unknown> | undefined)?.[name])),
    'keystore (selectForSign, selectForVerify, clear, add) not found',
  );
  expectShape(Array.isArray((state?.jwks as { keys?: unknown } | undefined)?.keys), 'public jwks not found');
}

/** Which kids sign, per provider: selectForSign reads it at each call. */
const signingKids = new WeakMap<object, ReadonlySet<string>>();

/** Makes `keys` the provider's keys: all of them verify and are published, those with `signs` sign. */
export function installKeys(provider: Provider, keys: readonly PhasedKey[]): void {
  checkKeystore(provider);
  const keystore = keystoreOf(provider)!;
  if (!signingKids.has(keystore)) {
    const select = keystore.selectForSign.bind(keystore);
    keystore.selectForSign = (options) => select(options).filter((key) => signingKids.get(keystore)!.has(key.kid!));
  }
  signingKids.set(keystore, new Set(keys.filter((key) => key.signs).map((key) => key.jwk.kid!)));
  // In one synchronous step: no request sees the store half-filled.
  keystore.clear();
  for (const { jwk } of keys) keystore.add(structuredClone(jwk));
  privateState(provider)!.jwks = {
    keys: keys.map(({ jwk }) => Object.fromEntries(PUBLIC_MEMBERS.filter((name) => jwk[name] !== undefined).map((name) => [name, jwk[name]]))),
  };
}
