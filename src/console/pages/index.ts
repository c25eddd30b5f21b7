// The console's pages, in the order of its navigation. A new page is one file beside this one,
// added here.
import type { ConsolePage } from '../page.js';
import { auditPage } from './audit.js';
import { clientsPage } from './clients.js';
import { dashboardPage } from './dashboard.js';
import { keysPage } from './keys.js';
import { resourceServersPage } from './resource-servers.js';
import { usersPage } from './users.js';

export const CONSOLE_PAGES: readonly ConsolePage[] = [dashboardPage, clientsPage, resourceServersPage, usersPage, keysPage, auditPage];
