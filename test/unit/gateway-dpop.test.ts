import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProofRefused, verifyProof } from '../../src/gateway/dpop.js';
import { advanceClock } from '../helpers/clock.js';
import { DpopKey } from '../helpers/dpop.js';

const key = new DpopKey();
const TOKEN = 'an-access-token';
const URL_ = 'https://api.example.com/items/42';
const ath = createHash('sha256').update(TOKEN).digest('base64url');
const expected = { method: 'GET', url: URL_, accessToken: TOKEN, jkt: key.thumbprint };

/** A replay record in memory: a jti is new once. */
function record() {
  const seen = new Set<string>();
  return async (jti: string) => (seen.has(jti) ? false : Boolean(seen.add(jti)));
}

afterEach(() => vi.useRealTimers());

describe('a DPoP proof for the original request', () => {
  it('passes once, with a query in htu ignored', async () => {
    const firstUse = record();
    const proof = key.proof(`${URL_}?page=2`, { ath }, 'GET');
    await expect(verifyProof(proof, expected, firstUse)).resolves.toBeUndefined();
    await expect(verifyProof(proof, expected, firstUse)).rejects.toThrow(/used before/);
  });

  it('is refused for another method, URL, token or key, without using it up', async () => {
    const firstUse = record();
    const cases: [string, string][] = [
      [key.proof(URL_, { ath }, 'POST'), 'htm'],
      [key.proof('https://api.example.com/items/43', { ath }, 'GET'), 'htu'],
      [key.proof('http://api.example.com/items/42', { ath }, 'GET'), 'htu'],
      [key.proof(URL_, { ath: 'x' }, 'GET'), 'ath'],
      [key.proof(URL_, {}, 'GET'), 'ath'],
      [new DpopKey().proof(URL_, { ath }, 'GET'), 'another key'],
      [key.proof(URL_, { ath, iat: Math.floor(Date.now() / 1000) - 301 }, 'GET'), 'iat'],
      ['not.a.proof', 'not a valid'],
    ];
    for (const [proof, why] of cases) await expect(verifyProof(proof, expected, firstUse), why).rejects.toThrow(new RegExp(why));
    await expect(verifyProof(key.proof(URL_, { ath }, 'GET'), expected, firstUse)).resolves.toBeUndefined();
  });

  it('is refused when stamped further ahead of the clock than 5 s, without using it up', async () => {
    const firstUse = record();
    const now = Math.floor(Date.now() / 1000);
    const ahead = key.proof(URL_, { ath, iat: now + 299 }, 'GET');
    await expect(verifyProof(ahead, expected, firstUse)).rejects.toThrow(/in the future/);
    await expect(verifyProof(key.proof(URL_, { ath, iat: now + 5 }, 'GET'), expected, firstUse)).resolves.toBeUndefined();
  });

  it('goes stale five minutes after its iat', async () => {
    const proof = key.proof(URL_, { ath }, 'GET');
    advanceClock(301_000);
    await expect(verifyProof(proof, expected, record())).rejects.toBeInstanceOf(ProofRefused);
  });
});
