import { LRUCache } from 'lru-cache';

/**
 * What is kept for one list of rendered flag outcomes: the ids of the list's entries, in order
 * (each entry's id is told apart from every other entry of its renderer), which a list is compared
 * by, so the entries themselves are not kept alive by it.
 */
export interface KeptForList {
  readonly ids: Float64Array;
}

/** Bytes kept per environment revision, and the most one list's value may take and still be kept. */
export interface ListBudget {
  readonly bytes: number;
  readonly perList: number;
}

/**
 * The key of the first `count` ids: two 32-bit lanes of a multiplicative hash of the ids, in
 * order, as one 53-bit number. Lists that differ may share a key; {@link KeptByList#get} checks id
 * by id, so a collision only misses.
 */
export function listKey(ids: readonly number[], count: number): number {
  let high = 0x2545f491;
  let low = 0x6b43a9b5;
  for (let index = 0; index < count; index++) {
    const id = ids[index] as number;
    high = Math.imul(high ^ id, 0x9e3779b1);
    high ^= high >>> 15;
    low = Math.imul(low ^ id, 0x85ebca77);
    low ^= low >>> 13;
  }
  return (high >>> 0) * 0x200000 + (low >>> 11);
}

/** The first `count` ids as a list of its own, to keep with a value. */
export function keptIds(ids: readonly number[], count: number): Float64Array {
  const kept = new Float64Array(count);
  for (let index = 0; index < count; index++) kept[index] = ids[index] as number;
  return kept;
}

function sameIds(kept: Float64Array, ids: readonly number[], count: number): boolean {
  if (kept.length !== count) return false;
  for (let index = 0; index < count; index++) if (kept[index] !== ids[index]) return false;
  return true;
}

/**
 * Values made once per list of flag outcomes (a whole answer, or the joined bytes of its flags)
 * and reused for every request whose flags come out the same: contexts that differ mostly share a
 * list. A client choosing its contexts can still make many lists (distinct keys falling into
 * different splits, identities with overrides of their own), so what is kept is bounded by bytes,
 * not count (lru-cache with `maxSize`, least recently used out first), and a value larger than its
 * share of the budget is not kept at all.
 */
export class KeptByList<T extends KeptForList> {
  private readonly kept: LRUCache<number, T>;

  /** @param sizeOf - the bytes a kept value holds, its ids included. */
  constructor(budget: ListBudget, sizeOf: (value: T) => number) {
    this.kept = new LRUCache({ maxSize: budget.bytes, maxEntrySize: budget.perList, sizeCalculation: sizeOf });
  }

  /** Bytes the kept values take, as counted against the budget. */
  get bytesKept(): number {
    return this.kept.calculatedSize;
  }

  /** The value kept for the first `count` of `ids` (whose {@link listKey} is `key`), if any. */
  get(key: number, ids: readonly number[], count: number): T | undefined {
    const known = this.kept.get(key);
    return known !== undefined && sameIds(known.ids, ids, count) ? known : undefined;
  }

  /** Keeps `value` under `key`, unless it is larger than one list's share of the budget. */
  keep(key: number, value: T): void {
    this.kept.set(key, value);
  }
}
