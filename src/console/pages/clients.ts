// Clients: list, register (the secret shown once), edit, rotate the secret with an overlap,
// enable or disable, delete after a confirmation. Every change goes through ClientService with the
// admin API's schemas, and into the audit trail.
import { clientDeleteView, clientDetailView, clientFormValues, clientFormView, clientListView, clientSecretView } from '../../../views/console/clients.js';
import { createClientInput, listClientsInput, rotateSecretInput, updateClientInput } from '../../clients/schema.js';
import { CONSOLE_CLIENT_ID } from '../../clients/service.js';
import { clientView } from '../../clients/views.js';
import { parseInput } from '../../http/validate.js';
import { fixable, formOf, lines, list, text, ticked, whole, type FormValues } from '../forms.js';
import type { ConsoleContext, ConsolePage } from '../page.js';

const DONE: Record<string, string> = {
  saved: 'Changes saved.',
  disabled: 'Client disabled: its tokens no longer work.',
  enabled: 'Client enabled.',
  deleted: 'Client deleted.',
};

/** The registration form as the admin API's POST /admin/clients body. */
function createBody(form: FormValues) {
  return {
    client_id: text(form, 'client_id'),
    client_name: text(form, 'client_name'),
    grant_types: list(form, 'grant_types'),
    scope: text(form, 'scope') ?? '',
    default_scope: text(form, 'default_scope'),
    redirect_uris: lines(form, 'redirect_uris'),
    token_endpoint_auth_method: text(form, 'token_endpoint_auth_method'),
    access_token_ttl: whole(form, 'access_token_ttl', undefined),
    resource_server: ticked(form, 'resource_server'),
    resource_server_id: text(form, 'resource_server_id'),
    dpop_bound_access_tokens: ticked(form, 'dpop_bound_access_tokens'),
  };
}

/** The edit form as a PATCH /admin/clients/:id body: emptied fields go back to their defaults. */
function updateBody(form: FormValues) {
  const { client_id: _id, ...fields } = createBody(form);
  return {
    ...fields,
    client_name: fields.client_name ?? null,
    default_scope: fields.default_scope ?? fields.scope,
    access_token_ttl: whole(form, 'access_token_ttl', null),
    resource_server_id: fields.resource_server_id ?? null,
  };
}

export const clientsPage: ConsolePage = {
  title: 'Clients',
  path: '/clients',
  routes(router, { clients, resourceServers, render, audited, base }) {
    const detailPath = (id: string) => `${base}/clients/${encodeURIComponent(id)}`;
    const done = (ctx: ConsoleContext, path: string, what: keyof typeof DONE) => {
      ctx.status = 303;
      ctx.redirect(`${path}?done=${what}`);
    };
    const message = (ctx: ConsoleContext) => DONE[String(ctx.query.done)];
    /** The resource servers a client may act for, for the form's choice. */
    const linkable = async () => (await resourceServers.all()).map((server) => ({ id: server.id, label: `${server.name} (${server.identifier})` }));

    router.get('/clients', async (ctx) => {
      const query = parseInput(listClientsInput, { cursor: ctx.query.cursor });
      const page = await clients.list(query);
      render(ctx, { title: 'Clients', body: clientListView({ base, clients: page.clients.map(clientView), next: page.nextCursor, message: message(ctx) }) });
    });

    router.get('/clients/new', async (ctx) => {
      const values = { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' };
      render(ctx, { title: 'Register a client', body: clientFormView({ base, csrf: ctx.state.csrf, servers: await linkable(), values }) });
    });

    router.post('/clients', async (ctx) => {
      const form = formOf(ctx);
      try {
        const input = parseInput(createClientInput, createBody(form));
        const fields = Object.keys(input);
        const created = await audited(
          ctx,
          (made) => ({ type: 'client.created', clientId: made?.client.id ?? input.client_id, details: { fields } }),
          () => clients.create(input),
        );
        render(ctx, {
          title: 'Client registered',
          body: clientSecretView({ base, client: clientView(created.client), secret: created.secret, rotated: false }),
        });
      } catch (err) {
        const refused = fixable(err);
        render(ctx, {
          title: 'Register a client',
          status: refused.status,
          body: clientFormView({ base, csrf: ctx.state.csrf, servers: await linkable(), values: form, error: refused.description }),
        });
      }
    });

    router.get('/clients/:id', async (ctx) => {
      const client = clientView(await clients.get(ctx.params.id!));
      const actsFor = await resourceServers.identifierOf(client.resource_server_id);
      const body = clientDetailView({ base, client, actsFor, csrf: ctx.state.csrf, message: message(ctx), builtIn: client.client_id === CONSOLE_CLIENT_ID });
      render(ctx, { title: `Client ${client.client_id}`, body });
    });

    router.get('/clients/:id/edit', async (ctx) => {
      const client = clientView(await clients.get(ctx.params.id!));
      render(ctx, {
        title: `Edit ${client.client_id}`,
        body: clientFormView({ base, csrf: ctx.state.csrf, servers: await linkable(), values: clientFormValues(client), editing: client.client_id }),
      });
    });

    router.post('/clients/:id', async (ctx) => {
      const id = ctx.params.id!;
      await clients.get(id);
      const form = formOf(ctx);
      try {
        const patch = parseInput(updateClientInput, updateBody(form));
        await audited(ctx, { type: 'client.updated', clientId: id, details: { fields: Object.keys(patch) } }, () => clients.update(id, patch));
        done(ctx, detailPath(id), 'saved');
      } catch (err) {
        const refused = fixable(err);
        render(ctx, {
          title: `Edit ${id}`,
          status: refused.status,
          body: clientFormView({ base, csrf: ctx.state.csrf, servers: await linkable(), values: form, error: refused.description, editing: id }),
        });
      }
    });

    router.post('/clients/:id/enabled', async (ctx) => {
      const id = ctx.params.id!;
      const patch = parseInput(updateClientInput, { disabled: text(formOf(ctx), 'enabled') !== 'yes' });
      await audited(ctx, { type: 'client.updated', clientId: id, details: { fields: ['disabled'] } }, () => clients.update(id, patch));
      done(ctx, detailPath(id), patch.disabled ? 'disabled' : 'enabled');
    });

    router.post('/clients/:id/secret', async (ctx) => {
      const id = ctx.params.id!;
      const input = parseInput(rotateSecretInput, { overlap_seconds: whole(formOf(ctx), 'overlap_seconds', 0) });
      const rotated = await audited(ctx, { type: 'client.secret_rotated', clientId: id, details: { overlap_seconds: input.overlap_seconds } }, () =>
        clients.rotateSecret(id, input.overlap_seconds),
      );
      render(ctx, {
        title: `New secret for ${id}`,
        body: clientSecretView({ base, client: clientView(rotated.client), secret: rotated.secret, rotated: true }),
      });
    });

    router.get('/clients/:id/delete', async (ctx) => {
      const client = clientView(await clients.get(ctx.params.id!));
      render(ctx, { title: `Delete ${client.client_id}`, body: clientDeleteView({ base, client, csrf: ctx.state.csrf }) });
    });

    router.post('/clients/:id/delete', async (ctx) => {
      const id = ctx.params.id!;
      await audited(ctx, { type: 'client.deleted', clientId: id }, () => clients.remove(id));
      done(ctx, `${base}/clients`, 'deleted');
    });
  },
};
