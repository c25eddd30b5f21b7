import { createHmac } from 'node:crypto';
import { secretsEqual } from '../crypto/compare.js';

/**
 * Synchronizer tokens for the sign-in forms: an HMAC of the interaction id under a secret all
 * instances share. Only a page Tollgate rendered for this interaction carries the right one (the
 * interaction cookie is SameSite=Lax on top of it).
 */
export class CsrfTokens {
  constructor(private readonly secret: Buffer) {}

  issue(interactionId: string): string {
    return createHmac('sha256', this.secret).update(`csrf:${interactionId}`).digest('base64url');
  }

  verify(interactionId: string, presented: unknown): boolean {
    if (typeof presented !== 'string' || presented.length > 100) return false;
    return secretsEqual(presented, this.issue(interactionId));
  }
}
