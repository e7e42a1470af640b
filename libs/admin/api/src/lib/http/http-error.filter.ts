import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import { DomainError, ValidationError, type DomainErrorKind } from '@flagline/admin-domain';
import { ConcurrencyError, DuplicateEventIdError } from '@flagline/event-sourcing';
import type { Response } from 'express';
import { apiError, JsonTooDeepError, RequestValidationError, type ApiErrorBody } from './api-error';

const STATUS_OF: Record<DomainErrorKind, number> = {
  invalid: HttpStatus.BAD_REQUEST,
  not_found: HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  precondition_failed: HttpStatus.PRECONDITION_FAILED,
  forbidden: HttpStatus.FORBIDDEN,
};

/** The 4xx status of an `http-errors` error meant for the client (`expose`), as the body parser throws them. */
function clientErrorStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null || !('expose' in error) || error.expose !== true) return null;
  const status = 'status' in error ? error.status : undefined;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500 ? status : null;
}

/** Maps every error to one JSON shape and status; unexpected errors are logged and answered 500. */
export function toApiError(error: unknown): ApiErrorBody {
  if (error instanceof JsonTooDeepError) return apiError(400, 'JSON_TOO_DEEP', error.message);
  if (error instanceof RequestValidationError) return apiError(400, 'VALIDATION_FAILED', 'The request is invalid', error.errors);
  if (error instanceof ValidationError) return apiError(400, error.code, 'The request is invalid', error.fields);
  if (error instanceof DomainError) {
    // A conflict may carry what it is about (the features of a dependency cycle, a feature's dependants).
    const details = error.kind === 'conflict' && Object.keys(error.details).length > 0 ? error.details : undefined;
    return apiError(STATUS_OF[error.kind], error.code, error.message, undefined, details);
  }
  if (error instanceof ConcurrencyError) return apiError(409, 'CONCURRENT_MODIFICATION', 'The entity kept changing while this request ran; retry it');
  // Only while the first attempt of an Idempotency-Key is still being written; once stored, a retry is answered from it.
  if (error instanceof DuplicateEventIdError) return apiError(409, 'IDEMPOTENCY_KEY.IN_USE', 'A request with this Idempotency-Key is still being processed; retry it');
  const codes: Record<number, string> = { 400: 'MALFORMED_REQUEST', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 404: 'ROUTE_NOT_FOUND', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : typeof response === 'object' && response !== null && 'message' in response ? String((response).message) : error.message;
    return apiError(status, codes[status] ?? `HTTP_${status}`, message);
  }
  // Errors of the body parser (too large, bad encoding or charset) carry their client status.
  const clientStatus = clientErrorStatus(error);
  if (clientStatus !== null && error instanceof Error) return apiError(clientStatus, codes[clientStatus] ?? `HTTP_${clientStatus}`, error.message);
  return apiError(500, 'INTERNAL_ERROR', 'Internal error');
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = toApiError(error);
    if (body.statusCode >= 500) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    if (response.headersSent) return;
    response.status(body.statusCode).json(body);
  }
}
