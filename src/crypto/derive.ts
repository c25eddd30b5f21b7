import { hkdfSync } from 'node:crypto';

/** A 32-byte secret for one purpose, derived from `secret` (HKDF-SHA256): one stored secret serves several uses apart. */
export function subkey(secret: Buffer | string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'tollgate', purpose, 32));
}
