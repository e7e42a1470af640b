/** How a domain error surfaces to a caller; the HTTP layer maps each kind to one status. */
export type DomainErrorKind = 'invalid' | 'not_found' | 'conflict' | 'precondition_failed' | 'forbidden';

/** One rejected field of a command, named by its path in the request (`rules[0].conditions[1].value`). */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  constructor(
    /** Stable, namespaced code, e.g. `FEATURE.NAME_TAKEN`. */
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly kind = 'invalid';
  constructor(
    code: string,
    readonly fields: readonly FieldError[],
  ) {
    super(code, fields.map((f) => `${f.field}: ${f.message}`).join('; '), { fields });
  }
}

export class NotFoundError extends DomainError {
  readonly kind = 'not_found';
}

export class ConflictError extends DomainError {
  readonly kind = 'conflict';
}

/** The caller's `If-Match` revision is not the entity's current revision. */
export class PreconditionFailedError extends DomainError {
  readonly kind = 'precondition_failed';
  constructor(entity: string, expected: number, actual: number) {
    super(`${entity.toUpperCase().replace(/ /g, '_')}.STALE_REVISION`, `${entity} is at revision ${actual}, not ${expected}`, { expected, actual });
  }
}

export class ForbiddenError extends DomainError {
  readonly kind = 'forbidden';
}

/** Throws `PreconditionFailedError` when an expected revision is given and differs. */
export function checkRevision(entity: string, expected: number | undefined, actual: number): void {
  if (expected !== undefined && expected !== actual) throw new PreconditionFailedError(entity, expected, actual);
}
