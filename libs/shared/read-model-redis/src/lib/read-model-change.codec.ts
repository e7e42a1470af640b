import type { IdentityRef, ReadModelChange } from '@flagline/contracts';

/** The change notification as published on the Redis channel, or null when nothing changed. */
export function encodeReadModelChange(environmentIds: readonly number[], identities: readonly IdentityRef[]): string | null {
  if (environmentIds.length === 0 && identities.length === 0) return null;
  const change: ReadModelChange = {
    environmentIds: [...environmentIds],
    identities: identities.map(({ environmentId, identifier }) => ({ environmentId, identifier })),
  };
  return JSON.stringify(change);
}

function isIdentityRef(value: unknown): value is IdentityRef {
  if (typeof value !== 'object' || value === null) return false;
  const ref = value as Record<string, unknown>;
  return Number.isSafeInteger(ref['environmentId']) && typeof ref['identifier'] === 'string';
}

/**
 * Reads a change notification; null for a payload that is not one. The channel is ours, but a
 * subscriber must not crash on whatever else someone publishes there.
 */
export function decodeReadModelChange(payload: string): ReadModelChange | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { environmentIds, identities } = parsed as Record<string, unknown>;
  if (!Array.isArray(environmentIds) || !environmentIds.every((id) => Number.isSafeInteger(id))) return null;
  if (!Array.isArray(identities) || !identities.every(isIdentityRef)) return null;
  return {
    environmentIds: environmentIds as number[],
    identities: identities.map(({ environmentId, identifier }) => ({ environmentId, identifier })),
  };
}
