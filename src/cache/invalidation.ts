// What makes in-process caches safe to use: every change that can end a token or alter a client or
// a resource server is an event, applied by the instance that made it before it answers, and heard by
// every other instance (on PostgreSQL, from the database as the change commits: src/cache/pg-bus.ts).
import { z } from 'zod';

export const invalidationEvent = z.discriminatedUnion('kind', [
  /** A token was destroyed (revoked); `id` is the SHA-256 of its value, as stored. */
  z.object({ kind: z.literal('token'), id: z.string().min(1).max(128) }),
  /** Every token of a grant was revoked. */
  z.object({ kind: z.literal('grant'), id: z.string().min(1).max(256) }),
  /** A client was updated, disabled, deleted or had its secret rotated (its tokens may be gone). */
  z.object({ kind: z.literal('client'), id: z.string().min(1).max(128) }),
  /** A resource server was created, updated or deleted: every instance reloads its copy of them. */
  z.object({ kind: z.literal('resource_server'), id: z.string().min(1).max(128) }),
  /** The provider's keys changed phase (a rotation started, a key began signing or was removed): reload them. */
  z.object({ kind: z.literal('keys') }),
]);

export type InvalidationEvent = z.infer<typeof invalidationEvent>;
export type InvalidationHandler = (event: InvalidationEvent) => void;

export interface InvalidationBus {
  /** False while this instance may be missing other instances' events: caches must not be used then. */
  readonly connected: boolean;
  /** Applies the event here at once. Call it after the change is committed, before answering. */
  publish(event: InvalidationEvent): Promise<void>;
  /** `handler` gets every event, local or remote; `onReset` is called when events may have been missed. */
  subscribe(handler: InvalidationHandler, onReset: () => void): void;
  close(): Promise<void>;
}

/** Shared by the bus implementations: local delivery to subscribers. */
export class Subscribers {
  readonly #handlers: { handler: InvalidationHandler; onReset: () => void }[] = [];

  add(handler: InvalidationHandler, onReset: () => void): void {
    this.#handlers.push({ handler, onReset });
  }

  deliver(event: InvalidationEvent): void {
    for (const { handler } of this.#handlers) handler(event);
  }

  reset(): void {
    for (const { onReset } of this.#handlers) onReset();
  }
}

/** One process, one store (the embedded database): every change happens here, so delivery is a call. */
export class LocalBus implements InvalidationBus {
  readonly connected = true;
  readonly #subscribers = new Subscribers();

  async publish(event: InvalidationEvent): Promise<void> {
    this.#subscribers.deliver(event);
  }

  subscribe(handler: InvalidationHandler, onReset: () => void): void {
    this.#subscribers.add(handler, onReset);
  }

  async close(): Promise<void> {}
}
