// `user …` commands: requests to the admin API's /admin/users, checked first with its schemas.
// Passwords are read from standard input (--password-stdin), never from the command line, where
// the process list and shell history would keep them; without it `create` generates one.
import { randomSecret } from '../crypto/random.js';
import { createUserInput, listUsersInput, updateUserInput } from '../users/schema.js';
import { segment, type AdminApi } from './api-client.js';
import { boolean, pageOptions, validate, UsageError, type CliIo, type CommandFamily, type Values } from './cli-kit.js';

/** The id of the user a command names by id, username or email (GET /admin/users/:id takes all three). */
async function userId(api: AdminApi, user: string): Promise<string> {
  const { id } = (await api({ method: 'GET', path: `/users/${segment(user)}` })) as { id: string };
  return id;
}

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
  flags: {
    username: ['--username', 'USERNAME'],
    email: ['--email'],
    password: ['--password-stdin'],
    disabled: ['--disabled'],
    admin: ['--admin'],
    limit: ['--limit'],
    cursor: ['--cursor'],
  },
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
        const password = piped ?? randomSecret();
        const body = validate(createUserInput, { username, email: values.email, password, disabled: values.disabled, admin: values.admin });
        // A generated password is shown once, like a client secret; a piped one never is.
        return async (api) => ({ ...((await api({ method: 'POST', path: '/users', body })) as object), ...(piped === undefined ? { password } : {}) });
      },
    },
    list: {
      description: 'Lists users by id, a page at a time.',
      options: pageOptions(200, 50),
      prepare(_args, values) {
        const query = validate(listUsersInput, { limit: values.limit, cursor: values.cursor }) as Record<string, string>;
        return (api) => api({ method: 'GET', path: '/users', query });
      },
    },
    get: {
      description: 'Prints one user, without the password.',
      args: ['USER'],
      prepare:
        ([user]) =>
        (api) =>
          api({ method: 'GET', path: `/users/${segment(user!)}` }),
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
        const body = validate(updateUserInput, {
          username: values.username,
          email: values.email === 'none' ? null : values.email,
          password: passwordFromStdin(values, io),
          disabled: boolean(values.disabled),
          admin: boolean(values.admin),
        });
        return async (api) => api({ method: 'PATCH', path: `/users/${await userId(api, user!)}`, body });
      },
    },
    delete: {
      description: 'Deletes a user, revoking their grants and tokens.',
      args: ['USER'],
      prepare:
        ([user]) =>
        async (api) => {
          const id = await userId(api, user!);
          await api({ method: 'DELETE', path: `/users/${id}` });
          return { id, deleted: true };
        },
    },
    consents: {
      description: 'Lists the clients a user has consented to.',
      args: ['USER'],
      prepare:
        ([user]) =>
        async (api) =>
          api({ method: 'GET', path: `/users/${await userId(api, user!)}/consents` }),
    },
    'revoke-consent': {
      description: "Revokes a user's consent to a client and the tokens it allowed.",
      args: ['USER', 'CLIENT_ID'],
      // Also revokes the tokens the consent allowed, as DELETE /admin/users/:id/consents/:client_id does.
      prepare:
        ([user, clientId]) =>
        async (api) => {
          const id = await userId(api, user!);
          await api({ method: 'DELETE', path: `/users/${id}/consents/${segment(clientId!)}` });
          return { user_id: id, client_id: clientId, consent_revoked: true };
        },
    },
  },
};
