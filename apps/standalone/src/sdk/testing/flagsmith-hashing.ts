import { createHash } from 'node:crypto';

/**
 * Flagsmith's bucketing, written out here from its published algorithm so the specs can say where
 * an identity must land without asking the code under test: MD5 of the ids joined with commas,
 * read as an integer, modulo 9999, scaled to 0..100 (a result of exactly 100 hashes the ids
 * repeated once more).
 */
export function hashedPercentage(ids: readonly (string | number)[], repeat = 1): number {
  const text = Array.from({ length: repeat }, () => ids.map(String).join(',')).join(',');
  const digest = BigInt(`0x${createHash('md5').update(text, 'utf8').digest('hex')}`);
  const percentage = (Number(digest % 9999n) / 9998) * 100;
  return percentage === 100 ? hashedPercentage(ids, repeat + 1) : percentage;
}

/** The key Flagsmith hashes an identity by: `<client-side environment key>_<identifier>`. */
export const identityKey = (clientKey: string, identifier: string): string => `${clientKey}_${identifier}`;

/** Whether an identity falls in a percentage split segment (`hash([segment id, identity key]) <= percentage`). */
export function inPercentageSplit(segmentId: number, key: string, percentage: number): boolean {
  return hashedPercentage([segmentId, key]) <= percentage;
}

export interface Allocation<V> {
  /** Multivariate option id: variants are walked in ascending option id order. */
  readonly optionId: number;
  readonly percentage: number;
  readonly bucket: V;
}

/**
 * The multivariate bucket of an identity: `p = hash([feature state id, identity key])`, then the
 * first variant (by option id) whose cumulative range `[start, start + percentage)` holds `p`;
 * `control` when none does.
 */
export function multivariateBucket<V>(featureStateId: number, key: string, allocations: readonly Allocation<V>[], control: V): V {
  const p = hashedPercentage([featureStateId, key]);
  let start = 0;
  for (const allocation of [...allocations].sort((a, b) => a.optionId - b.optionId)) {
    const limit = start + allocation.percentage;
    if (start <= p && p < limit) return allocation.bucket;
    start = limit;
  }
  return control;
}
