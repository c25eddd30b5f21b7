// The refusals of Tollgate's domain (a name taken, a record gone, a rotation under way, argon2 work
// or a request budget spent, …) as errors that know nothing of HTTP. Each says what kind of
// refusal it is and may keep a detail for the log, never for the caller; src/http/errors.ts maps
// every kind to its status and code in one place (httpErrorOf), as oidc-provider's error classes
// and their `error_detail` do.

/** The kinds a refusal can be; the one mapping to HTTP keys on them. */
export type RefusalKind = 'invalid' | 'not_found' | 'conflict' | 'rate_limited' | 'overloaded';

export interface RefusalDetails {
  /** For input that is refused: the field at fault, in the API's names. */
  field?: string;
  /** What operators may be told (the debug log), never the caller. */
  detail?: Readonly<Record<string, unknown>>;
}

export abstract class DomainError extends Error {
  abstract readonly kind: RefusalKind;
  readonly field?: string;
  readonly detail: Readonly<Record<string, unknown>>;

  /** @param description What the caller may be told. */
  constructor(
    readonly description: string,
    { field, detail = {} }: RefusalDetails = {},
  ) {
    super(description);
    this.name = new.target.name;
    this.field = field;
    this.detail = detail;
  }
}

/** Input the domain refuses as it stands. */
export class InvalidInput extends DomainError {
  readonly kind = 'invalid';
}

/** What was asked for does not exist (or no longer does). */
export class NotFound extends DomainError {
  readonly kind = 'not_found';

  constructor(what: string) {
    super(`${what} not found`);
  }
}

/** The change conflicts with the state: a name taken, a rotation under way. */
export class Conflict extends DomainError {
  readonly kind = 'conflict';
}

/** Work refused now rather than waited for; the caller may try again after `retryAfterSeconds`. */
export abstract class TryLater extends DomainError {
  abstract override readonly kind: 'rate_limited' | 'overloaded';

  constructor(
    description: string,
    readonly retryAfterSeconds: number,
    details?: RefusalDetails,
  ) {
    super(description, details);
  }
}

/** More work at once than the process takes. */
export class Overloaded extends TryLater {
  readonly kind = 'overloaded';
}
