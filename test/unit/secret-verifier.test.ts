import argon2 from 'argon2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateClientId, SecretVerifier } from '../../src/clients/secrets.js';
import { DEFAULT_HASH_COST, hashSecret } from '../../src/crypto/argon2.js';
import { loadConfig } from '../../src/config/config.js';
import { CHEAP_HASH_COST } from '../helpers/hash-cost.js';

afterEach(() => vi.restoreAllMocks());

describe('SecretVerifier', () => {
  it('runs one argon2 verification for many concurrent requests with the same secret', async () => {
    const hash = await hashSecret('the-secret', CHEAP_HASH_COST);
    const verifier = new SecretVerifier(100);
    const spy = vi.spyOn(argon2, 'verify');
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify('client', 'the-secret', [hash])));
    expect(results.every(Boolean)).toBe(true);
    expect(spy).toHaveBeenCalledTimes(1);
    // And a wrong secret, sent concurrently, is also checked once and refused every time.
    const wrong = await Promise.all(Array.from({ length: 10 }, () => verifier.verify('client', 'not-the-secret', [hash])));
    expect(wrong.some(Boolean)).toBe(false);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('isRemembered: only a secret verified before, against a hash still accepted', async () => {
    const [hash, rotated] = await Promise.all([hashSecret('old', CHEAP_HASH_COST), hashSecret('new', CHEAP_HASH_COST)]);
    const verifier = new SecretVerifier(100);
    expect(verifier.isRemembered('client', 'old', [hash])).toBe(false);
    expect(await verifier.verify('client', 'old', [hash])).toBe(true);
    expect(verifier.isRemembered('client', 'old', [hash])).toBe(true);
    expect(verifier.isRemembered('client', 'old', [rotated])).toBe(false);
    expect(verifier.isRemembered('other', 'old', [hash])).toBe(false);
    verifier.forget('client');
    expect(verifier.isRemembered('client', 'old', [hash])).toBe(false);
  });
});

describe('hash cost', () => {
  it('is argon2id with 64 MiB, 3 passes and 4 lanes unless code that builds a Config says otherwise', async () => {
    expect(loadConfig({ HASH_COST: '1', ARGON2_MEMORY_COST: '1' }).hashCost).toBe(DEFAULT_HASH_COST);
    expect(await hashSecret('a secret')).toMatch(/^\$argon2id\$v=19\$m=65536,p=4,t=3\$/);
    expect(await new SecretVerifier(0, CHEAP_HASH_COST).hash('a secret')).toMatch(/^\$argon2id\$v=19\$m=1024,p=1,t=1\$/);
  });
});

describe('generateClientId', () => {
  it('gives 22 base64url characters that never start with a dash or underscore', () => {
    // A base64url string starts with - or _ one time in 32; a thousand ids would show it.
    const ids = Array.from({ length: 1000 }, generateClientId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9][\w-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
