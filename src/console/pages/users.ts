// Users: list, create, enable or disable, grant or take the admin role, reset the password, and
// see and revoke consents. Every change goes through UserService with the admin API's schemas,
// and into the audit trail.
import { userDetailView, userFormView, userListView } from '../../../views/console/users.js';
import { Conflict } from '../../domain-errors.js';
import type { HttpError } from '../../http/errors.js';
import { parseInput } from '../../http/validate.js';
import { createUserInput, listUsersInput, updateUserInput, type UpdateUserInput } from '../../users/schema.js';
import { consentView, userView } from '../../users/views.js';
import { fixable, formOf, text, ticked } from '../forms.js';
import type { ConsoleContext, ConsolePage } from '../page.js';

const DONE: Record<string, string> = {
  created: 'User created.',
  disabled: 'User disabled: their sessions and tokens have ended.',
  enabled: 'User enabled.',
  admin: 'The user is now an administrator.',
  'not-admin': 'The user is no longer an administrator.',
  password: 'Password set.',
  revoked: 'Consent revoked.',
};

export const usersPage: ConsolePage = {
  title: 'Users',
  path: '/users',
  routes(router, { users, render, audited, base }) {
    const done = (ctx: ConsoleContext, id: string, what: keyof typeof DONE) => {
      ctx.status = 303;
      ctx.redirect(`${base}/users/${id}?done=${what}`);
    };

    async function showUser(ctx: ConsoleContext, id: string, failure?: HttpError) {
      const user = userView(await users.get(id));
      const consents = (await users.consents(id)).map(consentView);
      const self = user.id === ctx.state.session.user.id;
      const body = userDetailView({ base, user, consents, csrf: ctx.state.csrf, message: DONE[String(ctx.query.done)], error: failure?.description, self });
      render(ctx, { title: `User ${user.username}`, status: failure?.status, body });
    }

    /** One change to a user, audited as PATCH /admin/users/:id is. An administrator cannot lock themselves out. */
    async function change(ctx: ConsoleContext, input: Record<string, unknown>): Promise<UpdateUserInput> {
      const id = ctx.params.id!;
      const patch = parseInput(updateUserInput, input);
      if (id === ctx.state.session.user.id && (patch.disabled || patch.admin === false))
        throw new Conflict('you cannot disable yourself or take your own admin role', { field: 'id' });
      await users.get(id);
      await audited(ctx, { type: 'user.updated', subject: id, details: { fields: Object.keys(patch) } }, () => users.update(id, patch));
      return patch;
    }

    router.get('/users', async (ctx) => {
      const page = await users.list(parseInput(listUsersInput, { cursor: ctx.query.cursor }));
      render(ctx, { title: 'Users', body: userListView({ base, users: page.users.map(userView), next: page.nextCursor }) });
    });

    router.get('/users/new', (ctx) => render(ctx, { title: 'Create a user', body: userFormView({ base, csrf: ctx.state.csrf, values: {} }) }));

    router.post('/users', async (ctx) => {
      const form = formOf(ctx);
      try {
        const input = parseInput(createUserInput, {
          username: text(form, 'username') ?? '',
          email: text(form, 'email'),
          password: form.password ?? '',
          admin: ticked(form, 'admin'),
        });
        const fields = Object.keys(input).filter((field) => field !== 'password');
        const user = await audited(
          ctx,
          (made) => ({ type: 'user.created', subject: made?.id, details: { fields } }),
          () => users.create(input),
        );
        done(ctx, user.id, 'created');
      } catch (err) {
        const refused = fixable(err);
        render(ctx, {
          title: 'Create a user',
          status: refused.status,
          body: userFormView({ base, csrf: ctx.state.csrf, values: form, error: refused.description }),
        });
      }
    });

    router.get('/users/:id', (ctx) => showUser(ctx, ctx.params.id!));

    router.post('/users/:id/enabled', async (ctx) => {
      const patch = await change(ctx, { disabled: text(formOf(ctx), 'enabled') !== 'yes' });
      done(ctx, ctx.params.id!, patch.disabled ? 'disabled' : 'enabled');
    });

    router.post('/users/:id/admin', async (ctx) => {
      const patch = await change(ctx, { admin: text(formOf(ctx), 'admin') === 'yes' });
      done(ctx, ctx.params.id!, patch.admin ? 'admin' : 'not-admin');
    });

    router.post('/users/:id/password', async (ctx) => {
      const id = ctx.params.id!;
      try {
        await change(ctx, { password: formOf(ctx).password ?? '' });
        done(ctx, id, 'password');
      } catch (err) {
        await showUser(ctx, id, fixable(err));
      }
    });

    router.post('/users/:id/consents/:clientId/revoke', async (ctx) => {
      const { id, clientId } = ctx.params as { id: string; clientId: string };
      await users.get(id);
      await audited(ctx, { type: 'user.consent_revoked', subject: id, clientId }, () => users.revokeConsent(id, clientId));
      done(ctx, id, 'revoked');
    });
  },
};
