// What a console page is: one file under src/console/pages/ that adds its routes to the console's
// router, and is listed once in src/console/pages/index.ts. Everything a page needs (the services
// the admin API uses, rendering, auditing its actions) comes in ConsoleTools.
import type Router from '@koa/router';
import type { Context } from 'koa';
import type { SafeHtml } from '../../views/html.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEventInput } from '../audit/types.js';
import type { ClientService } from '../clients/service.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ResourceServerService } from '../resource-servers/service.js';
import type { UserService } from '../users/service.js';
import type { CounterHistory } from './counter-history.js';
import type { ConsoleSession } from './sessions.js';

/** What the console's middleware leaves for the pages: the session and its CSRF token. */
export interface ConsoleState {
  session: ConsoleSession;
  csrf: string;
}

export type ConsoleContext = Context & { state: ConsoleState; params: Record<string, string> };

export interface ConsoleServices {
  config: Config;
  db: Database;
  clients: ClientService;
  users: UserService;
  resourceServers: ResourceServerService;
  /** The provider's keys: listed and rotated as the admin API does. */
  keys: KeyRing;
  audit: AuditLog;
  metrics: Metrics;
  /** The refused requests (429) counter over time. */
  refusals: CounterHistory;
}

export interface ConsoleTools extends ConsoleServices {
  /** Sends a page of the console: its layout, navigation and headers. */
  render(ctx: ConsoleContext, page: { title: string; body: SafeHtml; status?: number }): void;
  /**
   * Makes a change and records it in the audit trail as the admin API does, whatever its outcome,
   * with the signed-in user as its actor. The event may depend on what the change made (a
   * generated id): it is then given the result, or undefined when the change failed.
   */
  audited<T>(ctx: ConsoleContext, event: AuditedEvent | ((made: T | undefined) => AuditedEvent), change: () => Promise<T>): Promise<T>;
  /** `${root}/console`: where links and form actions start. */
  base: string;
}

export type AuditedEvent = Omit<AuditEventInput, 'actor' | 'outcome'>;

export interface ConsolePage {
  /** In the navigation, and the heading of the page's first screen. */
  title: string;
  /** Below /console: `/` for the dashboard, `/clients`, … Its routes start with it. */
  path: string;
  routes(router: Router<ConsoleState>, tools: ConsoleTools): void;
}

/** A problem shown as a console page with its status: bad input, not found, not allowed. */
export class ConsolePageError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    /** Offer to sign in (again) rather than going back to the console. */
    readonly options: { signIn?: boolean } = {},
  ) {
    super(message);
  }
}
