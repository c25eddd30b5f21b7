// The refusals of Tollgate's domain (key rotation, argon2 work, …) as named errors that know
// nothing of HTTP. Each says what kind of refusal it is and keeps a detail for the log, never
// for the caller; src/http/errors.ts maps every kind to its status, code and description in one
// place, as oidc-provider's error classes and their `error_detail` do.

/** The kinds a refusal can be; the one mapping to HTTP keys on them. */
export type RefusalKind = 'conflict' | 'overloaded';

export abstract class DomainError extends Error {
  abstract readonly kind: RefusalKind;

  /**
   * @param description What the caller may be told.
   * @param detail What operators may be told (the log), never the caller.
   */
  constructor(
    readonly description: string,
    readonly detail: Readonly<Record<string, unknown>> = {},
  ) {
    super(description);
    this.name = new.target.name;
  }
}

/** Work that would wait too long is refused now; the caller may try again after `retryAfterSeconds`. */
export class Overloaded extends DomainError {
  readonly kind = 'overloaded';

  constructor(
    description: string,
    readonly retryAfterSeconds: number,
    detail?: Readonly<Record<string, unknown>>,
  ) {
    super(description, detail);
  }
}
