import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Principal, RequestContext } from '@flagline/admin-application';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { RequestValidationError } from './api-error';

export interface AuthenticatedRequest extends Request {
  principal?: Principal;
  /** The log position a read answers as of (set from `?asOf=` by `AsOfInterceptor`). */
  asOf?: number;
}

const header = (request: Request, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Longest `X-Correlation-Id` and `Idempotency-Key` accepted: both are stored with every event a request appends. */
export const MAX_REQUEST_TOKEN_LENGTH = 200;
/** Visible ASCII, as trace and idempotency tokens (UUIDs, W3C trace ids, ULIDs) are written. */
const REQUEST_TOKEN = /^[\x21-\x7e]+$/;

/** A request token header, checked: absent gives undefined, a malformed one is a 400 naming the header. */
function requestToken(request: Request, name: 'X-Correlation-Id' | 'Idempotency-Key'): string | undefined {
  const value = header(request, name.toLowerCase());
  if (value === undefined) return undefined;
  if (value.length > MAX_REQUEST_TOKEN_LENGTH || !REQUEST_TOKEN.test(value)) {
    throw new RequestValidationError([{ field: name, message: `must be 1 to ${MAX_REQUEST_TOKEN_LENGTH} visible ASCII characters` }]);
  }
  return value;
}

const callerOf = (principal: Principal): string => (principal.kind === 'user' ? `user:${principal.userId}` : `organisation-key:${principal.keyId}`);

/** The caller (set by the key guard), the correlation id and the idempotency key of a request. */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): RequestContext => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.principal) throw new Error('Caller used on a route without the API key guard');
  const idempotencyKey = requestToken(request, 'Idempotency-Key');
  return {
    principal: request.principal,
    correlationId: requestToken(request, 'X-Correlation-Id') ?? randomUUID(),
    // The caller is part of the command id: another caller sending the same key on the same path
    // (another organisation's key creating a project, say) makes a command of its own, never
    // replays this caller's events and answers.
    ...(idempotencyKey !== undefined ? { commandId: `${callerOf(request.principal)}:${request.method}:${request.path}:${idempotencyKey}` } : {}),
    ...(request.asOf !== undefined ? { asOf: request.asOf } : {}),
  };
});

/** The revision an `If-Match` header names (`"12"`, `W/"12"` or `12`); absent or `*` gives undefined. */
export function ifMatchRevision(request: Request): number | undefined {
  const value = header(request, 'if-match');
  if (value === undefined || value.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(value);
  if (!match) throw new RequestValidationError([{ field: 'If-Match', message: 'must be an ETag returned by this API, like "12"' }]);
  return Number(match[1]);
}

/** Reads `If-Match` for the `IfMatch` decorator (ParameterCheckInterceptor recognises routes by it). */
export const readIfMatch = (_data: unknown, context: ExecutionContext): number | undefined => ifMatchRevision(context.switchToHttp().getRequest<Request>());

/** `If-Match: "<revision>"` (also `W/"<revision>"` or a bare number); absent gives undefined. */
export const IfMatch = createParamDecorator(readIfMatch);
