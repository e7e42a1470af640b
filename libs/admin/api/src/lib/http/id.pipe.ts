import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { RequestValidationError } from './api-error';

function parseId(value: string | undefined, metadata: ArgumentMetadata): number {
  if (value === undefined || !/^\d{1,15}$/.test(value) || Number(value) < 1)
    throw new RequestValidationError([{ field: metadata.data ?? 'id', message: 'must be a positive integer' }]);
  return Number(value);
}

/** A numeric id path or query parameter; anything else is a 400 naming the parameter. */
@Injectable()
export class IdPipe implements PipeTransform<string | undefined, number> {
  transform(value: string | undefined, metadata: ArgumentMetadata): number {
    return parseId(value, metadata);
  }
}

/** An optional numeric id query parameter. */
@Injectable()
export class OptionalIdPipe implements PipeTransform<string | undefined, number | undefined> {
  transform(value: string | undefined, metadata: ArgumentMetadata): number | undefined {
    return value === undefined ? undefined : parseId(value, metadata);
  }
}

/** Page size and cursor query parameters. */
export function pageSize(value: string | undefined, field = 'pageSize', fallback = 50, max = 500): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new RequestValidationError([{ field, message: `must be an integer from 1 to ${max}` }]);
  return Number(value);
}

export function cursor(value: string | undefined, field = 'after'): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new RequestValidationError([{ field, message: 'must be a cursor returned by this API' }]);
  return Number(value);
}
