import { createHash } from 'node:crypto';

/** A stable UUID for a feature state lineage, derived from its numeric id (deterministic for rebuilds). */
export function featureStateUuid(featureStateId: number): string {
  const hex = createHash('sha256').update(`feature-state:${featureStateId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Identity UUIDs are the identity ids, formatted as UUIDs (one definition, shared with evaluation). */
export { identityUuidOf as identityUuid } from '@flagline/contracts';
