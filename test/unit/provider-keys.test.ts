// keys.json holds one signing key per algorithm a resource server can choose; a file from before
// ES256 and EdDSA keys existed gets them at load, written back so every instance signs alike.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateProviderKeys, loadProviderKeys } from '../../src/oidc/keys.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const algs = (keys: { jwks: { keys: { alg?: string }[] } }) => keys.jwks.keys.map((key) => key.alg);

describe('provider signing keys', () => {
  it('are generated for RS256, ES256 and EdDSA', () => {
    const { keys } = generateProviderKeys().jwks;
    expect(keys.map((key) => [key.alg, key.kty, key.crv])).toEqual([
      ['RS256', 'RSA', undefined],
      ['ES256', 'EC', 'P-256'],
      ['EdDSA', 'OKP', 'Ed25519'],
    ]);
    expect(new Set(keys.map((key) => key.kid)).size).toBe(3);
  });

  it('an RS256-only keys.json gets the missing keys at load, kept in the file, its own key and cookie keys unchanged', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollgate-keys-'));
    const old = generateProviderKeys();
    old.jwks.keys = old.jwks.keys.filter((key) => key.alg === 'RS256');
    await writeFile(join(dir, 'keys.json'), JSON.stringify(old));
    const { keys, created } = await loadProviderKeys(dir);
    expect(created).toBe(false);
    expect(algs(keys)).toEqual(['RS256', 'ES256', 'EdDSA']);
    expect(keys.jwks.keys[0]).toEqual(old.jwks.keys[0]);
    expect(keys.cookieKeys).toEqual(old.cookieKeys);
    // Read back the same by the next instance: nothing generated twice.
    expect((await loadProviderKeys(dir)).keys).toEqual(keys);
    expect(JSON.parse(await readFile(join(dir, 'keys.json'), 'utf8'))).toEqual(keys);
  });
});
