/**
 * Freezes a JSON-like value and everything it reaches, in place, and returns it. The walk stops
 * at objects already frozen: a document that shares unchanged parts with its previous revision
 * (structural sharing) costs what changed, not its size. Read-model documents are kept frozen
 * this way, so a frozen part of one reaches only frozen parts.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const member of value as unknown[]) deepFreeze(member);
  } else {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
