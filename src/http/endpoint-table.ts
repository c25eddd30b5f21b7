// A listener's endpoint table for the request pipeline, derived from the registry (src/http/endpoints.ts)
// with the handlers attached by id where the services exist (src/app.ts, src/gateway/listener.ts).
import type { LimitName } from '../rate-limit/limits.js';
import { ENDPOINTS, type AnswerSettings, type EndpointEntry, type EndpointId, type EndpointOf, type HandledBy, type Listener } from './endpoints.js';
import type { Endpoint, FormHandler, HeaderHandler } from './pipeline.js';

/** The handlers of a listener's endpoints: each endpoint that declares one needs it, and no other may have one. */
export type Handlers<L extends Listener> = { [K in HandledBy<'form', L>]: FormHandler } & { [K in HandledBy<'headers', L>]: HeaderHandler };

export interface TableOptions<L extends Listener> {
  handlers: Handlers<L>;
  settings: AnswerSettings;
  /** The optional endpoints the configuration serves. */
  served?: readonly EndpointOf<L>[];
}

/** The pipeline's endpoints of one listener, by path. */
export function endpointTable<L extends Listener>(listener: L, { handlers, settings, served = [] }: TableOptions<L>): Record<string, Endpoint> {
  const attached = handlers as Record<string, FormHandler | HeaderHandler>;
  const table: Record<string, Endpoint> = {};
  for (const [id, entry] of Object.entries(ENDPOINTS) as [EndpointId, EndpointEntry][]) {
    if (entry.listener !== listener || (entry.optional && !(served as readonly string[]).includes(id))) continue;
    const handler = attached[id];
    table[entry.path] = {
      id,
      methods: entry.methods,
      addressBudget: entry.budgets ? (`${id}_ip` as LimitName) : undefined,
      authenticatesClients: entry.budgets?.client !== undefined,
      ...(entry.handler === 'form' ? { handler: handler as FormHandler } : entry.handler === 'headers' ? { answer: handler as HeaderHandler } : {}),
      prefix: entry.prefix,
      headers: typeof entry.headers === 'function' ? entry.headers(settings) : entry.headers,
    };
  }
  return table;
}
