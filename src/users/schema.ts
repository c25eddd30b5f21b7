// User input accepted by the admin API and CLI, checked at the edge.
import { z } from 'zod';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords.js';

/** Lower-cased before the check: sign-in is case-insensitive, so the store holds one spelling. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@+-]{0,63}$/;
export const USER_ID_PATTERN = /^[0-9a-f-]{36}$/;

const fields = {
  username: z
    .string()
    .trim()
    .toLowerCase()
    .regex(USERNAME_PATTERN, 'must be 1-64 of a-z 0-9 . _ @ + - (case-insensitive), starting with a letter or digit')
    .describe('Case-insensitive: trimmed and lower-cased before the pattern applies.'),
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254)
    .pipe(z.email({ message: 'must be an email address' })),
  password: z
    .string()
    .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
    .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`),
  disabled: z.boolean(),
  admin: z.boolean().describe('May sign in to the web console (/console).'),
};

export const createUserInput = z.strictObject({
  username: fields.username,
  email: fields.email.optional(),
  password: fields.password,
  disabled: fields.disabled.default(false),
  admin: fields.admin.default(false),
});

export const updateUserInput = z.strictObject({
  username: fields.username.optional(),
  email: fields.email.nullable().optional(),
  password: fields.password.optional(),
  disabled: fields.disabled.optional(),
  admin: fields.admin.optional(),
});

export const listUsersInput = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().regex(USER_ID_PATTERN, 'must be a user id').optional().describe('The next_cursor of the previous page.'),
});

export type CreateUserInput = z.output<typeof createUserInput>;
export type UpdateUserInput = z.output<typeof updateUserInput>;
