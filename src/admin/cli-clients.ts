// `client …` commands: requests to the admin API's /admin/clients, checked first with its schemas.
import { createClientInput, listClientsInput, rotateSecretInput, updateClientInput } from '../clients/schema.js';
import { segment } from './api-client.js';
import { boolean, integer, pageOptions, validate, type CommandFamily, type Flag, type Options, type Value, type Values } from './cli-kit.js';

/** A client metadata field of the admin API: the option it comes from, and how its text becomes the API's value. */
interface Field {
  option: string;
  flag: Flag;
  read(value: Value): unknown;
}

const text = (value: Value) => value;
/** Seconds; `default` removes a per-client value, so the server's setting applies. */
const seconds = (value: Value) => (value === 'default' ? null : integer(value));
/** A repeatable option's values; `none` alone is the empty list. */
const list = (value: Value) => (Array.isArray(value) && value.length === 1 && value[0] === 'none' ? [] : value);

type ClientField = keyof typeof createClientInput.shape | keyof typeof updateClientInput.shape;

/** Every field createClientInput and updateClientInput take, each once (the type lets none be missed). */
const FIELDS: Record<ClientField, Field> = {
  client_id: { option: 'id', flag: { type: 'string', value: 'ID', help: 'client id, 1-64 of A-Z a-z 0-9 . _ ~ - (default: generated)' }, read: text },
  client_name: { option: 'name', flag: { type: 'string', value: 'NAME', help: 'display name, shown on the consent page' }, read: text },
  grant_types: {
    option: 'grant-type',
    flag: { type: 'string', multiple: true, value: 'GRANT', help: 'client_credentials (default), authorization_code or refresh_token' },
    read: list,
  },
  scope: { option: 'scope', flag: { type: 'string', value: '"a b"', help: 'space-separated scopes the client may request' }, read: text },
  default_scope: {
    option: 'default-scope',
    flag: { type: 'string', value: '"a"', help: 'scopes granted when a request names none; a subset of --scope' },
    read: text,
  },
  redirect_uris: {
    option: 'redirect-uri',
    flag: { type: 'string', multiple: true, value: 'URI', help: 'where sign-in sends its code: https, or http to localhost; `none`: no URIs' },
    read: list,
  },
  token_endpoint_auth_method: {
    option: 'auth-method',
    flag: { type: 'string', value: 'METHOD', help: 'client_secret_basic (default), client_secret_post, or none: a public client, no secret, PKCE' },
    read: text,
  },
  access_token_ttl: {
    option: 'ttl',
    flag: { type: 'string', value: 'SECONDS|default', help: 'access-token lifetime, at most 3600; default: ACCESS_TOKEN_TTL' },
    read: seconds,
  },
  resource_server: {
    option: 'resource-server',
    flag: { type: 'string', value: 'true|false', help: "true: may introspect every client's tokens" },
    read: boolean,
  },
  resource_server_id: {
    option: 'for-resource-server',
    flag: { type: 'string', value: 'ID|none', help: 'the resource server it acts for: may introspect the tokens issued for it' },
    read: (value) => (value === 'none' ? null : value),
  },
  refresh_token_idle_ttl: {
    option: 'refresh-idle-ttl',
    flag: { type: 'string', value: 'SECONDS|default', help: 'a refresh token dies this long unused; default: REFRESH_TOKEN_IDLE_TTL' },
    read: seconds,
  },
  refresh_token_absolute_ttl: {
    option: 'refresh-absolute-ttl',
    flag: { type: 'string', value: 'SECONDS|default', help: 'and this long after sign-in; default: REFRESH_TOKEN_ABSOLUTE_TTL' },
    read: seconds,
  },
  refresh_token_reuse_grace: {
    option: 'refresh-reuse-grace',
    flag: { type: 'string', value: 'SECONDS|default', help: 'a used refresh token still works this long; default: REFRESH_REUSE_GRACE_SECONDS' },
    read: seconds,
  },
  dpop_bound_access_tokens: {
    option: 'dpop',
    flag: { type: 'string', value: 'true|false', help: 'true: access tokens bound to a DPoP key (RFC 9449)' },
    read: boolean,
  },
  disabled: {
    option: 'disabled',
    flag: { type: 'string', value: 'true|false', help: 'true: revokes its tokens and refuses it until set back to false' },
    read: boolean,
  },
};

/** The options and input of the named fields. */
function metadata(names: string[]) {
  const fields = names.map((name) => [name, FIELDS[name as ClientField]] as const);
  return {
    options: Object.fromEntries(fields.map(([, { option, flag }]) => [option, flag])) as Options,
    input: (values: Values) => Object.fromEntries(fields.map(([name, { option, read }]) => [name, read(values[option])])),
  };
}

const created = metadata(Object.keys(createClientInput.shape));
const updated = metadata(Object.keys(updateClientInput.shape));

export const clientCommands: CommandFamily = {
  name: 'client',
  title: 'Clients',
  flags: {
    ...Object.fromEntries(Object.entries(FIELDS).map(([field, { option }]) => [field, [`--${option}`]])),
    limit: ['--limit'],
    cursor: ['--cursor'],
    overlap_seconds: ['--overlap'],
  },
  commands: {
    create: {
      description: 'Creates a client and prints it with its secret, shown this once (a public client has none).',
      options: created.options,
      prepare(_args, values) {
        const body = validate(createClientInput, created.input(values));
        return (api) => api({ method: 'POST', path: '/clients', body });
      },
    },
    list: {
      description: 'Lists clients by id, a page at a time.',
      options: pageOptions(200, 50),
      prepare(_args, values) {
        const query = validate(listClientsInput, { limit: values.limit, cursor: values.cursor }) as Record<string, string>;
        return (api) => api({ method: 'GET', path: '/clients', query });
      },
    },
    get: {
      description: 'Prints one client, without its secret.',
      args: ['ID'],
      prepare:
        ([id]) =>
        (api) =>
          api({ method: 'GET', path: `/clients/${segment(id!)}` }),
    },
    update: {
      description: 'Changes the given fields of a client; a repeatable option replaces the whole list.',
      args: ['ID'],
      options: updated.options,
      prepare([id], values) {
        const body = validate(updateClientInput, updated.input(values));
        return (api) => api({ method: 'PATCH', path: `/clients/${segment(id!)}`, body });
      },
    },
    delete: {
      description: 'Deletes a client and the tokens and grants it holds.',
      args: ['ID'],
      // One line saying what is gone (DELETE /admin/clients/:id answers 204).
      prepare:
        ([id]) =>
        async (api) => {
          await api({ method: 'DELETE', path: `/clients/${segment(id!)}` });
          return { client_id: id, deleted: true };
        },
    },
    'rotate-secret': {
      description: 'Gives a client a new secret and prints it, shown this once.',
      args: ['ID'],
      options: { overlap: { type: 'string', value: 'SECONDS', help: 'the previous secret keeps working this long, at most 7 days (default 0)' } },
      prepare([id], values) {
        const body = validate(rotateSecretInput, { overlap_seconds: integer(values.overlap) });
        return (api) => api({ method: 'POST', path: `/clients/${segment(id!)}/secret`, body });
      },
    },
  },
};
