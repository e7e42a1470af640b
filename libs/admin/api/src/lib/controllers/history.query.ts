import { Injectable } from '@nestjs/common';
import { RequestValidationError } from '../http/api-error';
import { ParameterPipe } from '../http/parameter-check.interceptor';
import { pageQuery, queryText } from './page.query';

export interface HistoryOptions {
  readonly after?: number;
  readonly limit: number;
  readonly types?: string[];
}

/** `?after=<cursor>&pageSize=<n>&type=A,B` of every history route; every bad parameter is named. */
export function historyOptions(query: Record<string, unknown>): HistoryOptions {
  const { page, errors } = pageQuery(query, ['number']);
  if (!page) throw new RequestValidationError(errors);
  const after = page.after?.[0];
  const types = queryText(query['type'])?.split(',').filter((type) => type.length > 0);
  return { ...(typeof after === 'number' ? { after } : {}), limit: page.limit, ...(types ? { types } : {}) };
}

/** The query of a history route as `HistoryOptions`. */
@Injectable()
export class HistoryQueryPipe extends ParameterPipe<HistoryOptions> {
  transform(value: unknown): HistoryOptions {
    return historyOptions(typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
  }
}
