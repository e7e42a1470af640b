/**
 * Narrowing helpers for untrusted JSON-shaped input. The engine reads contexts defensively so that
 * malformed documents degrade to "no match" instead of throwing.
 */

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own-property lookup, so that keys such as `constructor` never reach `Object.prototype`. */
export function hasOwn(record: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, key);
}

/** `record[key]` restricted to own properties. */
export function ownValue(record: Record<string, unknown>, key: string): unknown {
  return hasOwn(record, key) ? record[key] : undefined;
}

/** Python truthiness of a JSON value (`{}`, `[]`, `""`, `0`, `None` are false). */
export function isPyTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isRecord(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/**
 * Entries of a JSON object in document order. JS enumerates integer-like keys first, in numeric
 * order, so a caller that knows the document order passes it in `order`; keys it does not list
 * follow in JS order.
 */
export function orderedEntries(record: Record<string, unknown>, order: readonly string[] | undefined): Array<[string, unknown]> {
  if (order === undefined) return Object.entries(record);
  const entries: Array<[string, unknown]> = [];
  const seen = new Set<string>();
  for (const key of order) {
    if (seen.has(key) || !hasOwn(record, key)) continue;
    seen.add(key);
    entries.push([key, record[key]]);
  }
  for (const [key, value] of Object.entries(record)) if (!seen.has(key)) entries.push([key, value]);
  return entries;
}
