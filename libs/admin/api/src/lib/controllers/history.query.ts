import { cursor, pageSize } from '../http/id.pipe';

/** `?after=<cursor>&pageSize=<n>&type=A,B` of every history route. */
export function historyOptions(query: Record<string, string | undefined>): { after?: number; limit: number; types?: string[] } {
  const after = cursor(query['after']);
  const types = query['type']?.split(',').filter((type) => type.length > 0);
  return { ...(after !== undefined ? { after } : {}), limit: pageSize(query['pageSize']), ...(types ? { types } : {}) };
}
