import { ADMIN, expectStatus, obj, results, type ApiClient, type JsonObject } from './http-harness';

/** Reads a whole history route page by page (`pageSize`, `after`), returning every entry in order. */
export async function readHistory(client: ApiClient, path: string, pageSize = 3): Promise<JsonObject[]> {
  const entries: JsonObject[] = [];
  let after: number | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const query: string = after === null ? `?pageSize=${pageSize}` : `?pageSize=${pageSize}&after=${after}`;
    const body = expectStatus(await client.get(`${ADMIN}${path}${query}`), 200);
    const page = results(body);
    if (page.length > pageSize) throw new Error(`a page of ${pageSize} held ${page.length} entries`);
    entries.push(...page);
    const next = obj(body)['next'];
    if (next === null) return entries;
    if (typeof next !== 'number') throw new Error(`bad cursor ${JSON.stringify(next)}`);
    after = next;
  }
  throw new Error('history did not end');
}

/** Event types of history entries, in order. */
export const typesOf = (entries: readonly JsonObject[]): string[] => entries.map((entry) => (typeof entry['type'] === 'string' ? entry['type'] : JSON.stringify(entry['type'])));

/** Entries of one event type. */
export const ofType = (entries: readonly JsonObject[], type: string): JsonObject[] => entries.filter((entry) => entry['type'] === type);
