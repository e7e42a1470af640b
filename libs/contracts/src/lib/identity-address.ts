import { hash } from 'node:crypto';

/**
 * An identity's id, derived from its environment and identifier, so "get or create" needs no
 * index and both sides of the platform name an identity the same way.
 */
export function identityIdFor(environmentId: number, identifier: string): string {
  // The one-shot digest: no Hash object per call (every identify of an identity not cached asks).
  return hash('sha256', `${environmentId}\u0000${identifier}`, 'hex').slice(0, 32);
}

/** The identity id formatted as a UUID (Flagsmith's `identity_uuid`). */
export function identityUuidFor(environmentId: number, identifier: string): string {
  return identityUuidOf(identityIdFor(environmentId, identifier));
}

export function identityUuidOf(identityId: string): string {
  const hex = identityId.padEnd(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
