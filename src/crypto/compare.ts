import { timingSafeEqual } from 'node:crypto';
import { sha256Bytes } from './hash.js';

/**
 * A check of what a caller presents against a secret known in advance (METRICS_TOKEN,
 * GATEWAY_KEY): digests of equal length, compared in constant time, so an answer tells nothing
 * of the secret's length or prefix. The secret's digest is computed once.
 */
export function sharedSecretCheck(secret: string): (presented: string) => boolean {
  const expected = sha256Bytes(secret);
  return (presented) => timingSafeEqual(sha256Bytes(presented), expected);
}

/** Whether two secrets are equal, in time that tells nothing of where they differ or how long they are. */
export function secretsEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256Bytes(presented), sha256Bytes(expected));
}
