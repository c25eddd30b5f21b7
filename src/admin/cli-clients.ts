// `client …` commands: the admin API's /admin/clients operations, with the same schemas and output.
import { createClientInput, listClientsInput, rotateSecretInput, updateClientInput } from '../clients/schema.js';
import { clientView, clientWithSecretView } from '../clients/views.js';
import { boolean, integer, validate, type CommandFamily, type Values } from './cli-kit.js';

/** Which option each API field comes from, for error messages. */
const FLAGS: Record<string, string> = {
  client_id: '--id',
  client_name: '--name',
  scope: '--scope',
  default_scope: '--default-scope',
  access_token_ttl: '--ttl',
  resource_server: '--resource-server',
  token_endpoint_auth_method: '--auth-method',
  disabled: '--disabled',
  limit: '--limit',
  cursor: '--cursor',
  overlap_seconds: '--overlap',
};

const metadataOptions = {
  name: { type: 'string' },
  scope: { type: 'string' },
  'default-scope': { type: 'string' },
  ttl: { type: 'string' },
  'auth-method': { type: 'string' },
} as const;

/** The fields both create and update take; `--ttl default` clears a per-client TTL. */
function metadata(values: Values) {
  return {
    client_name: values.name,
    scope: values.scope,
    default_scope: values['default-scope'],
    access_token_ttl: values.ttl === 'default' ? null : integer(values.ttl),
    token_endpoint_auth_method: values['auth-method'],
  };
}

// Shaped as POST /admin/clients answers (RFC 7591 §3.2.1: client_secret_expires_at 0, no expiry).
// A public client (auth method none) has no secret, and so neither member.

export const clientCommands: CommandFamily = {
  name: 'client',
  title: 'Clients',
  commands: {
    create: {
      usage:
        '[--id ID] [--name NAME] [--scope "a b"] [--default-scope "a"] [--ttl SECONDS]\n' +
        '                [--resource-server] [--auth-method client_secret_basic|client_secret_post]',
      options: { ...metadataOptions, id: { type: 'string' }, 'resource-server': { type: 'boolean' } },
      prepare(_args, values) {
        const input = validate(createClientInput, { client_id: values.id, ...metadata(values), resource_server: values['resource-server'] }, FLAGS);
        return async ({ clients }) => clientWithSecretView(await clients.create(input));
      },
    },
    list: {
      usage: '[--limit N] [--cursor ID]',
      options: { limit: { type: 'string' }, cursor: { type: 'string' } },
      prepare(_args, values) {
        const input = validate(listClientsInput, { limit: values.limit, cursor: values.cursor }, FLAGS);
        return async ({ clients }) => {
          const { clients: page, nextCursor } = await clients.list(input);
          return { clients: page.map(clientView), next_cursor: nextCursor };
        };
      },
    },
    get: {
      usage: 'ID',
      args: ['ID'],
      prepare: ([id]) => async ({ clients }) => clientView(await clients.get(id!)),
    },
    update: {
      usage:
        'ID [--name NAME] [--scope "a b"] [--default-scope "a"] [--ttl SECONDS|default]\n' +
        '                [--resource-server true|false] [--auth-method METHOD] [--disabled true|false]',
      args: ['ID'],
      options: { ...metadataOptions, 'resource-server': { type: 'string' }, disabled: { type: 'string' } },
      prepare([id], values) {
        const patch = validate(
          updateClientInput,
          { ...metadata(values), resource_server: boolean(values['resource-server']), disabled: boolean(values.disabled) },
          FLAGS,
        );
        return async ({ clients }) => clientView(await clients.update(id!, patch));
      },
    },
    delete: {
      usage: 'ID',
      args: ['ID'],
      // One line saying what is gone (DELETE /admin/clients/:id answers 204).
      prepare: ([id]) => async ({ clients }) => {
        await clients.remove(id!);
        return { client_id: id, deleted: true };
      },
    },
    'rotate-secret': {
      usage: 'ID [--overlap SECONDS]',
      args: ['ID'],
      options: { overlap: { type: 'string' } },
      prepare([id], values) {
        const { overlap_seconds } = validate(rotateSecretInput, { overlap_seconds: integer(values.overlap) }, FLAGS);
        return async ({ clients }) => clientWithSecretView(await clients.rotateSecret(id!, overlap_seconds));
      },
    },
  },
};
