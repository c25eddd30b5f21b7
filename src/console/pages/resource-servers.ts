// Resource servers: list, add, edit, delete after a confirmation. Every change goes through
// ResourceServerService with the admin API's schemas, and into the audit trail as the admin API
// records it (resource_server.*).
import {
  resourceServerDeleteView,
  resourceServerDetailView,
  resourceServerFormValues,
  resourceServerFormView,
  resourceServerListView,
} from '../../../views/console/resource-servers.js';
import { parseInput } from '../../http/validate.js';
import { createResourceServerInput, listResourceServersInput, updateResourceServerInput } from '../../resource-servers/schema.js';
import { resourceServerView } from '../../resource-servers/views.js';
import { fixable, formOf, text, ticked, whole, words, type FormValues } from '../forms.js';
import type { ConsoleContext, ConsolePage } from '../page.js';

const DONE: Record<string, string> = {
  created: 'Resource server added.',
  saved: 'Changes saved.',
  deleted: 'Resource server deleted.',
};

/** The form as the admin API's POST /admin/resource-servers body. */
function createBody(form: FormValues) {
  return {
    identifier: text(form, 'identifier') ?? '',
    name: text(form, 'name') ?? '',
    scopes: words(form, 'scopes'),
    access_token_format: text(form, 'access_token_format'),
    access_token_ttl: whole(form, 'access_token_ttl', undefined),
    signing_alg: text(form, 'signing_alg'),
    dpop_required: ticked(form, 'dpop_required'),
    public_base_url: text(form, 'public_base_url'),
    case_sensitive_paths: ticked(form, 'case_sensitive_paths'),
  };
}

/** The edit form as a PATCH body: an emptied lifetime or public URL goes back to none. */
const updateBody = (form: FormValues) => ({
  ...createBody(form),
  access_token_ttl: whole(form, 'access_token_ttl', null),
  public_base_url: text(form, 'public_base_url') ?? null,
});

export const resourceServersPage: ConsolePage = {
  title: 'Resource servers',
  path: '/resource-servers',
  routes(router, { resourceServers, render, audited, base }) {
    const detailPath = (id: string) => `${base}/resource-servers/${encodeURIComponent(id)}`;
    const done = (ctx: ConsoleContext, path: string, what: keyof typeof DONE) => {
      ctx.status = 303;
      ctx.redirect(`${path}?done=${what}`);
    };
    const message = (ctx: ConsoleContext) => DONE[String(ctx.query.done)];
    const formPage = (ctx: ConsoleContext, values: FormValues, options: { error?: { status: number; description: string }; editing?: string } = {}) =>
      render(ctx, {
        title: options.editing ? 'Edit resource server' : 'Add a resource server',
        status: options.error?.status,
        body: resourceServerFormView({ base, csrf: ctx.state.csrf, values, error: options.error?.description, editing: options.editing }),
      });

    router.get('/resource-servers', async (ctx) => {
      const page = await resourceServers.list(parseInput(listResourceServersInput, { cursor: ctx.query.cursor }));
      render(ctx, {
        title: 'Resource servers',
        body: resourceServerListView({ base, servers: page.resourceServers.map(resourceServerView), next: page.nextCursor, message: message(ctx) }),
      });
    });

    router.get('/resource-servers/new', (ctx) => formPage(ctx, { access_token_format: 'opaque', signing_alg: 'RS256' }));

    router.post('/resource-servers', async (ctx) => {
      const form = formOf(ctx);
      try {
        const input = parseInput(createResourceServerInput, createBody(form));
        const fields = Object.keys(input);
        const server = await audited(
          ctx,
          (made) => ({ type: 'resource_server.created', details: { fields, resource_server_id: made?.id } }),
          () => resourceServers.create(input),
        );
        done(ctx, detailPath(server.id), 'created');
      } catch (err) {
        formPage(ctx, form, { error: fixable(err) });
      }
    });

    router.get('/resource-servers/:id', async (ctx) => {
      const server = resourceServerView(await resourceServers.get(ctx.params.id!));
      render(ctx, { title: `Resource server ${server.name}`, body: resourceServerDetailView({ base, server, message: message(ctx) }) });
    });

    router.get('/resource-servers/:id/edit', async (ctx) => {
      const server = resourceServerView(await resourceServers.get(ctx.params.id!));
      formPage(ctx, resourceServerFormValues(server), { editing: server.id });
    });

    router.post('/resource-servers/:id', async (ctx) => {
      const id = ctx.params.id!;
      await resourceServers.get(id);
      const form = formOf(ctx);
      try {
        const patch = parseInput(updateResourceServerInput, updateBody(form));
        await audited(ctx, { type: 'resource_server.updated', details: { fields: Object.keys(patch), resource_server_id: id } }, () =>
          resourceServers.update(id, patch),
        );
        done(ctx, detailPath(id), 'saved');
      } catch (err) {
        formPage(ctx, form, { error: fixable(err), editing: id });
      }
    });

    router.get('/resource-servers/:id/delete', async (ctx) => {
      const server = resourceServerView(await resourceServers.get(ctx.params.id!));
      render(ctx, { title: `Delete ${server.name}`, body: resourceServerDeleteView({ base, server, csrf: ctx.state.csrf }) });
    });

    router.post('/resource-servers/:id/delete', async (ctx) => {
      const id = ctx.params.id!;
      await audited(ctx, { type: 'resource_server.deleted', details: { resource_server_id: id } }, () => resourceServers.remove(id));
      done(ctx, `${base}/resource-servers`, 'deleted');
    });
  },
};
