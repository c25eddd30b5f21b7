// Keys: the provider's signing and cookie keys (never their private material), and starting a
// rotation, through the KeyRing as POST /admin/keys/rotate does, audited as keys.rotated.
import { keyListView } from '../../../views/console/keys.js';
import type { HttpError } from '../../http/errors.js';
import { listKeys } from '../../keys/store.js';
import { fixable } from '../forms.js';
import type { ConsoleContext, ConsolePage } from '../page.js';

export const keysPage: ConsolePage = {
  title: 'Keys',
  path: '/keys',
  routes(router, { db, keys, render, audited, base }) {
    async function showKeys(ctx: ConsoleContext, failure?: HttpError) {
      const message = ctx.query.done === 'rotated' ? 'Rotation started: the new keys are published and sign from the time shown.' : undefined;
      const body = keyListView({ base, keys: await listKeys(db), csrf: ctx.state.csrf, message, error: failure?.description });
      render(ctx, { title: 'Keys', status: failure?.status, body });
    }

    router.get('/keys', (ctx) => showKeys(ctx));

    router.post('/keys/rotate', async (ctx) => {
      try {
        await audited(
          ctx,
          (made) => ({ type: 'keys.rotated', details: { kids: made?.map((key) => key.kid) } }),
          () => keys.rotate(),
        );
        ctx.status = 303;
        ctx.redirect(`${base}/keys?done=rotated`);
      } catch (err) {
        // A rotation already under way (409) is shown on the list, beside the keys that say so.
        await showKeys(ctx, fixable(err));
      }
    });
  },
};
