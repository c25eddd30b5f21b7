// The DPoP nonce secret lives in keys.json with the other keys every instance must share; a
// keys.json written before it existed still gives every instance the same secret, untouched.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dpopNonceSecret, loadProviderKeys } from '../../src/oidc/keys.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('dpopNonceSecret', () => {
  it('is generated into a new keys.json, 32 random bytes, and read back the same', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-keys-'));
    const { keys, created } = await loadProviderKeys(dir);
    expect(created).toBe(true);
    expect(Buffer.from(keys.dpopNonceSecret!, 'base64url')).toHaveLength(32);
    const again = await loadProviderKeys(dir);
    expect(dpopNonceSecret(again.keys).equals(dpopNonceSecret(keys))).toBe(true);
  });

  it('is derived from the cookie key for a keys.json that lacks it, alike everywhere, without adding it to the file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-keys-'));
    const legacy = JSON.stringify({ jwks: { keys: [] }, cookieKeys: ['an-old-cookie-key'] });
    await writeFile(join(dir, 'keys.json'), legacy);
    const [one, two] = [await loadProviderKeys(dir), await loadProviderKeys(dir)];
    expect(dpopNonceSecret(one.keys)).toHaveLength(32);
    expect(dpopNonceSecret(one.keys).equals(dpopNonceSecret(two.keys))).toBe(true);
    expect(JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8'))).not.toHaveProperty('dpopNonceSecret');
    // Another cookie key, another secret: it is not a constant.
    expect(dpopNonceSecret({ jwks: { keys: [] }, cookieKeys: ['another'] }).equals(dpopNonceSecret(one.keys))).toBe(false);
  });

  it('refuses a malformed secret rather than weakening it', () => {
    expect(() => dpopNonceSecret({ jwks: { keys: [] }, cookieKeys: ['k'], dpopNonceSecret: 'c2hvcnQ' })).toThrow(/32 bytes/);
  });
});
