// The primitives of src/crypto/ against published vectors and their own promises; everything that
// hashes, derives or compares secrets goes through them.
import { createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { secretsEqual, sharedSecretCheck } from '../../src/crypto/compare.js';
import { subkey } from '../../src/crypto/derive.js';
import { sha256, sha256Bytes } from '../../src/crypto/hash.js';
import { randomSecret } from '../../src/crypto/random.js';
import { generateSigningKey, SIGNING_ALGS } from '../../src/crypto/signing-keys.js';

describe('src/crypto', () => {
  it('sha256: FIPS 180-2 "abc", in base64url by default and in hex', () => {
    expect(sha256('abc', 'hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256('abc')).toBe(Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString('base64url'));
    expect(sha256Bytes('abc').toString('hex')).toBe(sha256('abc', 'hex'));
  });

  it('subkey: HKDF-SHA256, 32 bytes, the same for the same purpose and apart for another', () => {
    const secret = Buffer.alloc(32, 7);
    // Pinned: the stored keys' CSRF and DPoP-nonce secrets are derived this way; another salt, hash or length would change them.
    expect(subkey(secret, 'tollgate csrf').toString('hex')).toBe('1632dc5bd8bd25a81faf9c25fdfa96b4e42f5d12497424629acdd249416bb3ab');
    expect(subkey(secret, 'tollgate csrf').equals(subkey(secret, 'tollgate csrf'))).toBe(true);
    expect(subkey(secret, 'tollgate csrf').equals(subkey(secret, 'tollgate console csrf'))).toBe(false);
    expect(subkey(secret, 'tollgate csrf').equals(subkey(Buffer.alloc(32, 8), 'tollgate csrf'))).toBe(false);
  });

  it('secretsEqual and sharedSecretCheck: equal only when equal, whatever the lengths', () => {
    const check = sharedSecretCheck('s3cret-value');
    expect(check('s3cret-value')).toBe(true);
    for (const other of ['', 's3cret', 's3cret-value ', 'S3cret-value', 's3cret-valuf']) {
      expect(check(other)).toBe(false);
      expect(secretsEqual(other, 's3cret-value')).toBe(false);
    }
    expect(secretsEqual('s3cret-value', 's3cret-value')).toBe(true);
  });

  it('randomSecret: 256 bits, base64url, never the same twice', () => {
    const secrets = new Set(Array.from({ length: 100 }, randomSecret));
    expect(secrets.size).toBe(100);
    for (const secret of secrets) expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
  });

  it('generateSigningKey: a private JWK per algorithm that signs what its public part verifies', () => {
    for (const alg of SIGNING_ALGS) {
      const jwk = generateSigningKey(alg);
      expect(jwk).toMatchObject({ alg, use: 'sig', kid: expect.any(String) });
      expect(jwk.d).toEqual(expect.any(String));
      const { kid: _kid, use: _use, alg: _alg, ...material } = jwk;
      const privateKey = { key: material, format: 'jwk' } as const;
      // Ed25519 hashes internally: no digest is named for it.
      const digest = alg === 'EdDSA' ? null : 'sha256';
      const signature = sign(digest, Buffer.from('payload'), privateKey);
      expect(verify(digest, Buffer.from('payload'), createPublicKey(privateKey), signature)).toBe(true);
    }
  });
});
