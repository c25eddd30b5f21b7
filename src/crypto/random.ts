import { randomBytes } from 'node:crypto';

/** A new secret: 256 bits from the CSPRNG, base64url-encoded (43 characters). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}
