import { Injectable, type ArgumentMetadata } from '@nestjs/common';
import { RequestValidationError } from './api-error';
import { ParameterPipe } from './parameter-check.interceptor';

function parseId(value: unknown, metadata: ArgumentMetadata): number {
  // The raw text is checked by ParameterCheckInterceptor; the global validation pipe may have made it a number since.
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,15}$/.test(text) || Number(text) < 1)
    throw new RequestValidationError([{ field: metadata.data ?? 'id', message: 'must be a positive integer' }]);
  return Number(text);
}

/** A numeric id path or query parameter; anything else is a 400 naming the parameter. */
@Injectable()
export class IdPipe extends ParameterPipe<number> {
  transform(value: unknown, metadata: ArgumentMetadata): number {
    return parseId(value, metadata);
  }
}

/** An optional numeric id query parameter. */
@Injectable()
export class OptionalIdPipe extends ParameterPipe<number | undefined> {
  transform(value: unknown, metadata: ArgumentMetadata): number | undefined {
    return value === undefined ? undefined : parseId(value, metadata);
  }
}

/** An optional `true`/`false` query parameter. */
@Injectable()
export class OptionalBooleanPipe extends ParameterPipe<boolean | undefined> {
  transform(value: unknown, metadata: ArgumentMetadata): boolean | undefined {
    if (value === undefined) return undefined;
    if (value === 'true' || value === 'false') return value === 'true';
    throw new RequestValidationError([{ field: metadata.data ?? 'value', message: 'must be true or false' }]);
  }
}

/** The `pageSize` query parameter of collection and history routes. */
export function pageSize(value: string | undefined, field = 'pageSize', fallback = 50, max = 500): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new RequestValidationError([{ field, message: `must be an integer from 1 to ${max}` }]);
  return Number(value);
}
