// `resource-server …` commands: requests to the admin API's /admin/resource-servers, checked first with its schemas.
import { createResourceServerInput, listResourceServersInput, updateResourceServerInput } from '../resource-servers/schema.js';
import { segment } from './api-client.js';
import { gatewayRoutesCommand } from './cli-gateway-routes.js';
import { boolean, integer, pageOptions, validate, type CommandFamily, type Options, type Values } from './cli-kit.js';

const OPTIONS: Options = {
  identifier: { type: 'string', value: 'URI', help: 'absolute URI clients name in resource= and tokens carry as aud' },
  name: { type: 'string', value: 'NAME', help: 'display name' },
  scope: { type: 'string', value: '"a b"', help: 'space-separated scopes it defines; "" for none' },
  format: { type: 'string', value: 'opaque|jwt', help: 'access token format (default opaque)' },
  ttl: { type: 'string', value: 'SECONDS|default', help: 'access-token lifetime, at most 3600; default: ACCESS_TOKEN_TTL' },
  alg: { type: 'string', value: 'RS256|ES256|EdDSA', help: 'JWT signing algorithm (default RS256)' },
  dpop: { type: 'string', value: 'true|false', help: 'true: its tokens are issued only with a DPoP proof (RFC 9449)' },
  'public-base-url': { type: 'string', value: 'URL|none', help: "where clients reach it, if not where the gateway forwards: DPoP proofs' scheme and host" },
  'case-sensitive-paths': {
    type: 'string',
    value: 'true|false',
    help: 'true: the API tells /Admin from /admin, and gateway rules compare paths exactly (default false)',
  },
};

/** The admin API's fields from the options given; absent options stay absent. */
function input(values: Values): Record<string, unknown> {
  const scope = values.scope;
  return {
    identifier: values.identifier,
    name: values.name,
    scopes: typeof scope === 'string' ? scope.split(' ').filter(Boolean) : scope,
    access_token_format: values.format,
    access_token_ttl: values.ttl === 'default' ? null : integer(values.ttl),
    signing_alg: values.alg,
    dpop_required: boolean(values.dpop),
    public_base_url: values['public-base-url'] === 'none' ? null : values['public-base-url'],
    case_sensitive_paths: boolean(values['case-sensitive-paths']),
  };
}

export const resourceServerCommands: CommandFamily = {
  name: 'resource-server',
  title: 'Resource servers (ID is the id create prints)',
  flags: {
    identifier: ['--identifier'],
    name: ['--name'],
    scopes: ['--scope'],
    access_token_format: ['--format'],
    access_token_ttl: ['--ttl'],
    signing_alg: ['--alg'],
    dpop_required: ['--dpop'],
    public_base_url: ['--public-base-url'],
    case_sensitive_paths: ['--case-sensitive-paths'],
    routes: ['--file'],
    limit: ['--limit'],
    cursor: ['--cursor'],
  },
  commands: {
    create: {
      description: 'Registers a resource server (an API) and prints it with its id.',
      options: {
        ...OPTIONS,
        identifier: { ...OPTIONS.identifier!, required: true },
        name: { ...OPTIONS.name!, required: true },
      },
      prepare(_args, values) {
        const body = validate(createResourceServerInput, input(values));
        return (api) => api({ method: 'POST', path: '/resource-servers', body });
      },
    },
    list: {
      description: 'Lists resource servers by id, a page at a time.',
      options: pageOptions(200, 50),
      prepare(_args, values) {
        const query = validate(listResourceServersInput, { limit: values.limit, cursor: values.cursor }) as Record<string, string>;
        return (api) => api({ method: 'GET', path: '/resource-servers', query });
      },
    },
    get: {
      description: 'Prints one resource server.',
      args: ['ID'],
      prepare:
        ([id]) =>
        (api) =>
          api({ method: 'GET', path: `/resource-servers/${segment(id!)}` }),
    },
    update: {
      description: 'Changes the given fields of a resource server; tokens already issued lose the scopes it no longer defines.',
      args: ['ID'],
      options: OPTIONS,
      prepare([id], values) {
        const body = validate(updateResourceServerInput, input(values));
        return (api) => api({ method: 'PATCH', path: `/resource-servers/${segment(id!)}`, body });
      },
    },
    routes: gatewayRoutesCommand,
    delete: {
      description: 'Deletes a resource server; clients linked to it lose the link.',
      args: ['ID'],
      // One line saying what is gone (DELETE /admin/resource-servers/:id answers 204).
      prepare:
        ([id]) =>
        async (api) => {
          await api({ method: 'DELETE', path: `/resource-servers/${segment(id!)}` });
          return { id, deleted: true };
        },
    },
  },
};
