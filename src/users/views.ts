import { z } from 'zod';
import type { User } from '../db/database.js';

const instant = z.iso.datetime();

/** A user as the admin API and CLI show it: never the password or its hash. */
export const userViewSchema = z.strictObject({
  id: z.string(),
  username: z.string(),
  email: z.string().optional(),
  disabled: z.boolean(),
  admin: z.boolean().describe('May sign in to the web console (/console).'),
  created_at: instant,
  updated_at: instant,
});

export const userPageSchema = z.strictObject({
  users: z.array(userViewSchema),
  next_cursor: z.string().optional().describe('The cursor of the next page; absent on the last page.'),
});

/** What a user consented to give a client. */
export const consentViewSchema = z.strictObject({
  client_id: z.string(),
  scope: z.string().describe('Space-separated scopes the user consented to.'),
  created_at: instant,
  updated_at: instant,
});

export const consentListSchema = z.strictObject({ consents: z.array(consentViewSchema) });

export function userView(user: User): z.output<typeof userViewSchema> {
  return {
    id: user.id,
    username: user.username,
    email: user.email ?? undefined,
    disabled: user.disabled,
    admin: user.admin,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

export function consentView(consent: { clientId: string; scopes: string[]; createdAt: Date; updatedAt: Date }): z.output<typeof consentViewSchema> {
  return {
    client_id: consent.clientId,
    scope: consent.scopes.join(' '),
    created_at: consent.createdAt.toISOString(),
    updated_at: consent.updatedAt.toISOString(),
  };
}
