import type { User } from '../db/database.js';

/** A user as the admin API and CLI show it: never the password or its hash. */
export function userView(user: User) {
  return {
    id: user.id,
    username: user.username,
    email: user.email ?? undefined,
    disabled: user.disabled,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

export function consentView(consent: { clientId: string; scopes: string[]; createdAt: Date; updatedAt: Date }) {
  return {
    client_id: consent.clientId,
    scope: consent.scopes.join(' '),
    created_at: consent.createdAt.toISOString(),
    updated_at: consent.updatedAt.toISOString(),
  };
}
