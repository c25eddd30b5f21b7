import { z } from 'zod';
import type { Database } from '../db/database.js';
import type { KeyRing } from '../keys/key-ring.js';
import { listKeys } from '../keys/store.js';
import { adminRoute, type AdminRoute } from './routes.js';

const timestamp = z.string().describe('ISO 8601, UTC');

export const keyViewSchema = z.strictObject({
  kid: z.string().describe('the JWK kid of a signing key; an id of a cookie key'),
  kind: z.enum(['signing', 'cookie']),
  alg: z.string().nullable().describe('RS256, ES256 or EdDSA; null for a cookie key'),
  use: z.literal('sig').nullable(),
  state: z
    .enum(['next', 'current', 'previous'])
    .describe('next: published, not signing yet; current: signing; previous: published until what it signed has expired'),
  created_at: timestamp,
  activates_at: timestamp.nullable().describe('when it starts (next) or started (current, previous) signing'),
  retired_at: timestamp.nullable().describe('previous: when it stopped signing'),
  expires_at: timestamp.nullable().describe('previous: when it is removed'),
});

const keyListSchema = z.strictObject({ keys: z.array(keyViewSchema) });

/** /admin/keys: the provider's signing and cookie keys (never their private material), and rotation. */
export function keyRoutes(ring: Pick<KeyRing, 'rotate'>, db: Database): AdminRoute[] {
  return [
    adminRoute({
      method: 'get',
      path: '/keys',
      summary: 'List the signing and cookie keys, newest first',
      description: 'Public facts only: kid, algorithm, use, phase and its dates.',
      status: 200,
      response: keyListSchema,
      async handle() {
        return { keys: await listKeys(db) };
      },
    }),
    adminRoute({
      method: 'post',
      path: '/keys/rotate',
      summary: 'Start a key rotation',
      description:
        'Creates a new signing key per algorithm and a new cookie key, published at once (state next) and signing after ' +
        'JWKS_CACHE_SECONDS; the keys they replace stay published until what they signed has expired. 409 while an earlier ' +
        "rotation's keys are still next.",
      status: 201,
      response: keyListSchema,
      errors: [409],
      async handle() {
        return { keys: await ring.rotate() };
      },
    }),
  ];
}
