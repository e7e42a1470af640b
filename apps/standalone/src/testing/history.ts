import { ADMIN, listAll, type ApiClient, type JsonObject } from './http-harness';

/** Reads a whole history route page by page (`pageSize`, `after`), returning every entry in order. */
export function readHistory(client: ApiClient, path: string, pageSize = 3): Promise<JsonObject[]> {
  return listAll(client, `${ADMIN}${path}`, pageSize);
}

/** Event types of history entries, in order. */
export const typesOf = (entries: readonly JsonObject[]): string[] => entries.map((entry) => (typeof entry['type'] === 'string' ? entry['type'] : JSON.stringify(entry['type'])));

/** Entries of one event type. */
export const ofType = (entries: readonly JsonObject[], type: string): JsonObject[] => entries.filter((entry) => entry['type'] === type);
