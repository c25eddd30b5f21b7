// Which stored token a JWT access token is: its jti, for a JWT of the issuer's published keys only,
// remembered once verified until it expires or the published keys change.
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import type { KeyRing } from '../../src/keys/key-ring.js';
import type { KeySet, SigningKey } from '../../src/keys/store.js';
import { jwtAccessTokenIds } from '../../src/oidc/jwt-access-tokens.js';

const ISSUER = 'https://issuer.example';

async function signingKey(kid: string): Promise<{ key: SigningKey; privateKey: CryptoKey }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
  return { key: { kid, alg: 'RS256', state: 'current', jwk }, privateKey };
}

/** A key ring with the keys given, which announces a change when told to. */
function ringOf(keys: SigningKey[]) {
  const listeners: ((set: KeySet) => void)[] = [];
  let current = { signing: keys, cookieKeys: [], secrets: {} } as unknown as KeySet;
  const ring = {
    get current() {
      return current;
    },
    onChange: (listener: (set: KeySet) => void) => listeners.push(listener),
  } as unknown as KeyRing;
  const change = (signing: SigningKey[]) => {
    current = { ...current, signing };
    for (const listener of listeners) listener(current);
  };
  return { ring, change };
}

const jwtOf = (privateKey: CryptoKey, kid: string, claims: { jti?: string; exp?: number } = {}) =>
  new SignJWT({ jti: claims.jti ?? 'token-1', client_id: 'c' })
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(claims.exp ?? Math.floor(Date.now() / 1000) + 300)
    .sign(privateKey);

describe('jwtAccessTokenIds', () => {
  it("names a published key's JWT by its jti, again when asked again, and no other value", async () => {
    const { key, privateKey } = await signingKey('k1');
    const ids = jwtAccessTokenIds(ringOf([key]).ring, ISSUER);
    const jwt = await jwtOf(privateKey, 'k1');
    expect(await ids(jwt)).toBe('token-1');
    expect(await ids(jwt)).toBe('token-1');
    const [header, payload] = jwt.split('.');
    expect(await ids(`${header}.${payload}.${'A'.repeat(342)}`)).toBeUndefined();
    expect(await ids('token-1')).toBeUndefined();
    const stranger = await signingKey('k1');
    expect(await ids(await jwtOf(stranger.privateKey, 'k1', { jti: 'forged' }))).toBeUndefined();
  });

  it('refuses an expired JWT, and a remembered one once its key is no longer published', async () => {
    const { key, privateKey } = await signingKey('k1');
    const next = await signingKey('k2');
    const { ring, change } = ringOf([key]);
    const ids = jwtAccessTokenIds(ring, ISSUER);
    expect(await ids(await jwtOf(privateKey, 'k1', { jti: 'old', exp: Math.floor(Date.now() / 1000) - 120 }))).toBeUndefined();
    const jwt = await jwtOf(privateKey, 'k1');
    expect(await ids(jwt)).toBe('token-1');
    change([key, next.key]);
    expect(await ids(jwt)).toBe('token-1');
    change([next.key]);
    expect(await ids(jwt)).toBeUndefined();
  });
});
