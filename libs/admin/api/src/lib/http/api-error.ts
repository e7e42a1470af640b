import { HttpStatus } from '@nestjs/common';

export interface FieldErrorBody {
  readonly field: string;
  readonly message: string;
}

/** The one JSON shape of every error the APIs return. */
export interface ApiErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly code: string;
  readonly message: string;
  readonly errors?: readonly FieldErrorBody[];
  /** What a 409 is about, by name and id (e.g. `cycle` for `FEATURE.DEPENDENCY_CYCLE`); only where the error carries it. */
  readonly details?: Readonly<Record<string, unknown>>;
}

const REASONS: Partial<Record<number, string>> = {
  [HttpStatus.BAD_REQUEST]: 'Bad Request',
  [HttpStatus.UNAUTHORIZED]: 'Unauthorized',
  [HttpStatus.FORBIDDEN]: 'Forbidden',
  [HttpStatus.NOT_FOUND]: 'Not Found',
  [HttpStatus.METHOD_NOT_ALLOWED]: 'Method Not Allowed',
  [HttpStatus.CONFLICT]: 'Conflict',
  [HttpStatus.PRECONDITION_FAILED]: 'Precondition Failed',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'Payload Too Large',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'Unsupported Media Type',
  [HttpStatus.INTERNAL_SERVER_ERROR]: 'Internal Server Error',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'Service Unavailable',
};

export function apiError(
  statusCode: number,
  code: string,
  message: string,
  errors?: readonly FieldErrorBody[],
  details?: Readonly<Record<string, unknown>>,
): ApiErrorBody {
  return { statusCode, error: REASONS[statusCode] ?? 'Error', code, message, ...(errors ? { errors } : {}), ...(details ? { details } : {}) };
}

/** A 400 naming each bad field; thrown by pipes and decorators before anything runs. */
export class RequestValidationError extends Error {
  constructor(readonly errors: readonly FieldErrorBody[]) {
    super(errors.map((error) => `${error.field}: ${error.message}`).join('; '));
  }
}

/**
 * A JSON body declared in a charset other than UTF-8 (JSON's own, RFC 8259): refused before it is
 * decoded, since every check on the raw text (depth, escapes) and every re-read of it assumes UTF-8.
 */
export class UnsupportedCharsetError extends Error {
  readonly status = 415;
  readonly expose = true;

  constructor(readonly charset: string) {
    super(`JSON bodies must be UTF-8, not ${charset}`);
  }
}

/** The charset a Content-Type header declares, lower-cased, or undefined. */
export function declaredCharset(contentType: string | undefined): string | undefined {
  return contentType === undefined ? undefined : /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1]?.toLowerCase();
}

/** Why a body holding a `\uD800`–`\uDFFF` escape outside a surrogate pair is refused. */
export const LONE_SURROGATE_MESSAGE = 'must be valid Unicode: a \\u escape from D800 to DFFF must be half of a surrogate pair';

/**
 * A JSON body nested deeper than accepted, refused from its raw text before it is parsed or
 * walked. Carries the client status the way the body parser's own errors do.
 */
export class JsonTooDeepError extends Error {
  readonly status = 400;
  readonly expose = true;

  constructor(readonly maxDepth: number) {
    super(`The JSON body nests objects and arrays more than ${maxDepth} levels deep`);
  }
}
