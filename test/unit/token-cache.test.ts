import { describe, expect, it } from 'vitest';
import { TokenCache, type CachedToken } from '../../src/cache/token-cache.js';

const entry = (overrides: Partial<CachedToken> = {}): CachedToken => ({
  body: '{"active":true}',
  clientId: 'c',
  tokenType: 'Bearer',
  expiresAt: Date.now() + 60_000,
  scope: '',
  audience: [],
  ...overrides,
});

describe('TokenCache', () => {
  it('does not keep an answer read before an eviction (a revocation raced the read)', () => {
    const cache = new TokenCache(10);
    const generation = cache.generation;
    cache.evictToken('other');
    cache.set('t', entry(), generation);
    expect(cache.get('t')).toBeUndefined();
    cache.set('t', entry(), cache.generation);
    expect(cache.get('t')).toBeDefined();
  });

  it('forgets a token when it expires', () => {
    const cache = new TokenCache(10);
    // One reading of the clock: two could straddle a millisecond and the expiry with it.
    const now = Date.now();
    cache.set('t', entry({ expiresAt: now + 1000 }), cache.generation);
    expect(cache.get('t', now + 999)).toBeDefined();
    expect(cache.get('t', now + 1001)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('stays within its bound, dropping the oldest first', () => {
    const cache = new TokenCache(3);
    for (const id of ['a', 'b', 'c', 'd']) cache.set(id, entry(), cache.generation);
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('d')).toBeDefined();
  });

  it('evicts by grant and by client', () => {
    const cache = new TokenCache(10);
    cache.set('a', entry({ grantId: 'g1', clientId: 'x' }), cache.generation);
    cache.set('b', entry({ grantId: 'g2', clientId: 'x' }), cache.generation);
    cache.set('c', entry({ clientId: 'y' }), cache.generation);
    cache.evictWhere((e) => e.grantId === 'g1');
    expect([cache.get('a'), cache.get('b')].map(Boolean)).toEqual([false, true]);
    cache.evictWhere((e) => e.clientId === 'x');
    expect([cache.get('b'), cache.get('c')].map(Boolean)).toEqual([false, true]);
  });

  it('keeps nothing when its size is 0', () => {
    const cache = new TokenCache(0);
    cache.set('a', entry(), cache.generation);
    expect(cache.size).toBe(0);
  });
});
