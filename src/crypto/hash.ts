import { hash } from 'node:crypto';

/**
 * SHA-256 of a value, base64url by default: how token ids, console sessions and remembered
 * secrets are stored, so a database or cache read never yields a usable value. `hex` is for
 * formats that fix it (Prisma's migration checksums).
 */
export function sha256(value: string | Buffer, encoding: 'base64url' | 'hex' = 'base64url'): string {
  // One call, without a Hash object: this runs for every token and secret a hot endpoint sees.
  return hash('sha256', value, encoding);
}

/** The raw 32-byte SHA-256 of a value: equal-length inputs for constant-time comparison. */
export function sha256Bytes(value: string | Buffer): Buffer {
  return hash('sha256', value, 'buffer');
}
