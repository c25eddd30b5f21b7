// `user …` commands: the admin API's /admin/users operations, with the same schemas and output.
// Passwords are read from standard input (--password-stdin), never from the command line, where
// the process list and shell history would keep them; without it `create` generates one.
import { generateSecret } from '../clients/secrets.js';
import { createUserInput, listUsersInput, updateUserInput } from '../users/schema.js';
import { consentView, userView } from '../users/views.js';
import { boolean, pageOptions, validate, UsageError, type CliIo, type CommandFamily, type Values } from './cli-kit.js';

const FLAGS: Record<string, string> = {
  username: 'USERNAME',
  email: '--email',
  password: '--password-stdin',
  disabled: '--disabled',
  admin: '--admin',
  limit: '--limit',
  cursor: '--cursor',
};

/** The password piped in: everything on standard input, without the final newline. */
function passwordFromStdin(values: Values, io: CliIo): string | undefined {
  if (!values['password-stdin']) return undefined;
  const piped = io.stdin();
  if (piped === undefined) throw new UsageError('--password-stdin reads the password from a pipe, e.g. `printf %s "$PASSWORD" | npm run admin -- …`');
  return piped.replace(/\r?\n$/, '');
}

export const userCommands: CommandFamily = {
  name: 'user',
  title: 'Users (USER is an id, a username or an email address)',
  commands: {
    create: {
      description: 'Creates a user; prints the password only when it generated one.',
      args: ['USERNAME'],
      options: {
        email: { type: 'string', value: 'EMAIL', help: 'email address' },
        'password-stdin': { type: 'boolean', help: 'read the password from standard input (default: generate one)' },
        disabled: { type: 'boolean', help: 'create the user unable to sign in' },
        admin: { type: 'boolean', help: 'let the user sign in to the web console (/console)' },
      },
      prepare([username], values, io) {
        const piped = passwordFromStdin(values, io);
        const password = piped ?? generateSecret();
        const input = validate(createUserInput, { username, email: values.email, password, disabled: values.disabled, admin: values.admin }, FLAGS);
        // A generated password is shown once, like a client secret; a piped one never is.
        return async ({ users }) => ({ ...userView(await users.create(input)), ...(piped === undefined ? { password } : {}) });
      },
    },
    list: {
      description: 'Lists users by id, a page at a time.',
      options: pageOptions(200, 50),
      prepare(_args, values) {
        const input = validate(listUsersInput, { limit: values.limit, cursor: values.cursor }, FLAGS);
        return async ({ users }) => {
          const { users: page, nextCursor } = await users.list(input);
          return { users: page.map(userView), next_cursor: nextCursor };
        };
      },
    },
    get: {
      description: 'Prints one user, without the password.',
      args: ['USER'],
      prepare: ([user]) => async ({ users }) => userView(await users.find(user!)),
    },
    update: {
      description: 'Changes the given fields of a user.',
      args: ['USER'],
      options: {
        username: { type: 'string', value: 'NAME', help: 'new username' },
        email: { type: 'string', value: 'EMAIL|none', help: 'new email address; none: remove it' },
        'password-stdin': { type: 'boolean', help: 'read a new password from standard input' },
        disabled: { type: 'string', value: 'true|false', help: 'true: the user cannot sign in' },
        admin: { type: 'string', value: 'true|false', help: 'true: the user may sign in to the web console; false: no longer' },
      },
      prepare([user], values, io) {
        const patch = validate(
          updateUserInput,
          { username: values.username, email: values.email === 'none' ? null : values.email, password: passwordFromStdin(values, io), disabled: boolean(values.disabled), admin: boolean(values.admin) },
          { ...FLAGS, username: '--username' },
        );
        return async ({ users }) => userView(await users.update((await users.find(user!)).id, patch));
      },
    },
    delete: {
      description: 'Deletes a user, revoking their grants and tokens.',
      args: ['USER'],
      prepare: ([user]) => async ({ users }) => {
        const { id } = await users.find(user!);
        await users.remove(id);
        return { id, deleted: true };
      },
    },
    consents: {
      description: 'Lists the clients a user has consented to.',
      args: ['USER'],
      prepare: ([user]) => async ({ users }) => ({ consents: (await users.consents((await users.find(user!)).id)).map(consentView) }),
    },
    'revoke-consent': {
      description: "Revokes a user's consent to a client and the tokens it allowed.",
      args: ['USER', 'CLIENT_ID'],
      // Also revokes the tokens the consent allowed, as DELETE /admin/users/:id/consents/:client_id does.
      prepare: ([user, clientId]) => async ({ users }) => {
        const { id } = await users.find(user!);
        await users.revokeConsent(id, clientId!);
        return { user_id: id, client_id: clientId, consent_revoked: true };
      },
    },
  },
};
