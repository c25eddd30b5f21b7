// How a token endpoint's own handler is written: a list of small named steps run in order, as
// oidc-provider writes its endpoints (lib/actions/*.js), so the handler reads, and a stack trace
// reads, like the protocol. A step goes on (returns nothing), answers, or leaves the request to
// the provider. Steps are module functions over one state object per request: running them
// allocates nothing else, and a step that does not wait is not awaited.
import type { Answer } from '../http/answers.js';
import type { FormHandler, FormRequest } from '../http/pipeline.js';

/** A step's verdict: the request is the provider's to answer (oidc-provider's own pipeline). */
export const PROVIDERS = Object.freeze({ providers: true });

/** Nothing (the next step goes on), an answer, or PROVIDERS. */
export type Outcome = Answer | typeof PROVIDERS | undefined;

export type Step<S> = (state: S) => Outcome | Promise<Outcome>;

/** A handler of the pipeline that runs `steps` over the state `begin` makes of each request; the last step must answer. */
export function handlerOf<S>(steps: readonly Step<S>[], begin: (request: FormRequest) => S): FormHandler {
  return async function runSteps(request) {
    const state = begin(request);
    for (const step of steps) {
      const pending = step(state);
      const outcome = pending instanceof Promise ? await pending : pending;
      if (outcome !== undefined) return outcome === PROVIDERS ? undefined : (outcome as Answer);
    }
    throw new Error(`no step answered: ${steps.map((step) => step.name).join(', ')}`);
  };
}
