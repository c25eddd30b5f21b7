import { dashboardView } from '../../../views/console/dashboard.js';
import type { ConsolePage } from '../page.js';

/** GET /console/: what Tollgate has been doing. */
export const dashboardPage: ConsolePage = {
  title: 'Dashboard',
  path: '/',
  routes(router, { render }) {
    router.get('/', (ctx) => render(ctx, { title: 'Dashboard', body: dashboardView({ username: ctx.state.session.user.username }) }));
  },
};
