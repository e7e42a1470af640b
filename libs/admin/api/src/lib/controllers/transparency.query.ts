import { Injectable } from '@nestjs/common';
import { RequestValidationError, type FieldErrorBody } from '../http/api-error';
import { ParameterPipe } from '../http/parameter-check.interceptor';
import { queryText } from './page.query';

/** Largest tree size or position accepted: JavaScript's safe integers. */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

export interface TransparencyQuery {
  readonly treeSize?: number;
  readonly position?: number;
  readonly eventId?: string;
  readonly first?: number;
  readonly second?: number;
}

/** A count parameter: digits only, within the safe integers; `min` 0 for sizes, 1 for positions. */
function count(query: Record<string, unknown>, name: keyof TransparencyQuery, min: number, errors: FieldErrorBody[]): number | undefined {
  const text = queryText(query[name]);
  if (text === undefined) return undefined;
  const value = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > MAX_COUNT) {
    errors.push({ field: name, message: `must be an integer from ${min} to ${MAX_COUNT}` });
    return undefined;
  }
  return value;
}

/** The query of every transparency route, each bad parameter named; which are required is the route's business. */
export function transparencyQuery(query: Record<string, unknown>): TransparencyQuery {
  const errors: FieldErrorBody[] = [];
  const treeSize = count(query, 'treeSize', 0, errors);
  const position = count(query, 'position', 1, errors);
  const first = count(query, 'first', 0, errors);
  const second = count(query, 'second', 0, errors);
  const eventId = queryText(query['eventId']);
  if (eventId !== undefined && (eventId.length === 0 || eventId.length > 200)) errors.push({ field: 'eventId', message: 'must be 1 to 200 characters' });
  if (errors.length > 0) throw new RequestValidationError(errors);
  return {
    ...(treeSize !== undefined ? { treeSize } : {}),
    ...(position !== undefined ? { position } : {}),
    ...(eventId !== undefined ? { eventId } : {}),
    ...(first !== undefined ? { first } : {}),
    ...(second !== undefined ? { second } : {}),
  };
}

@Injectable()
export class TransparencyQueryPipe extends ParameterPipe<TransparencyQuery> {
  transform(value: unknown): TransparencyQuery {
    return transparencyQuery(typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
  }
}

/** Names the parameters a route needs and did not get, in one 400. */
export function requireParameters(missing: readonly (string | false)[]): void {
  const errors = missing.filter((name): name is string => name !== false).map((field) => ({ field, message: 'is required' }));
  if (errors.length > 0) throw new RequestValidationError(errors);
}
