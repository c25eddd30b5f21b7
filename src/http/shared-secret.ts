import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * A check of what a caller presents against a configured shared secret (METRICS_TOKEN,
 * GATEWAY_KEY): digests of equal length, compared in constant time, so an answer tells nothing
 * of the secret's length or prefix.
 */
export function sharedSecretCheck(secret: string): (presented: string) => boolean {
  const expected = digest(secret);
  return (presented) => timingSafeEqual(digest(presented), expected);
}

const digest = (value: string) => createHash('sha256').update(value).digest();
