import { Injectable } from '@nestjs/common';
import { RequestValidationError, type FieldErrorBody } from '../http/api-error';
import { cursor, pageSize } from '../http/id.pipe';
import { ParameterPipe } from '../http/parameter-check.interceptor';

export interface HistoryOptions {
  readonly after?: number;
  readonly limit: number;
  readonly types?: string[];
}

/** A query value as text; a repeated or nested parameter keeps a form no check accepts. */
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : value === undefined ? undefined : JSON.stringify(value));

/** `?after=<cursor>&pageSize=<n>&type=A,B` of every history route; every bad parameter is named. */
export function historyOptions(query: Record<string, unknown>): HistoryOptions {
  const errors: FieldErrorBody[] = [];
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof RequestValidationError)) throw error;
      errors.push(...error.errors);
      return undefined;
    }
  };
  const after = attempt(() => cursor(text(query['after'])));
  const limit = attempt(() => pageSize(text(query['pageSize'])));
  if (errors.length > 0 || limit === undefined) throw new RequestValidationError(errors);
  const types = text(query['type'])?.split(',').filter((type) => type.length > 0);
  return { ...(after !== undefined ? { after } : {}), limit, ...(types ? { types } : {}) };
}

/** The query of a history route as `HistoryOptions`. */
@Injectable()
export class HistoryQueryPipe extends ParameterPipe<HistoryOptions> {
  transform(value: unknown): HistoryOptions {
    return historyOptions(typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
  }
}
