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
 * The budget every {@link KeptByList} made without one of its own shares, across environments
 * and their revisions (OFREP bulk answers): at most 8 MiB in all, least recently used out first,
 * whichever list it belongs to, and no value over 1 MiB. So what is kept does not grow with the number of environments served, and the lists of a
 * revision no longer served age out as the current ones are used.
 */
export const SHARED_LIST_BUDGET: ListBudget = { bytes: 8 * 1024 * 1024, perList: 1024 * 1024 };

/** A value in a cache, with the list that kept it and the bytes it counts. */
interface Held {
  readonly owner: object;
  readonly value: KeptForList;
  readonly size: number;
}

/** Each kept value's bytes are taken off its owner's count when it leaves the cache. */
const released = (held: Held): void => (held.owner as KeptByList<KeptForList>).release(held.size);

const cacheOf = (budget: ListBudget): LRUCache<number, Held> => new LRUCache<number, Held>({ maxSize: budget.bytes, dispose: released });

let shared: LRUCache<number, Held> | undefined;
/** Told apart per instance in a shared cache's keys (17 bits; a repeat only misses: values are checked by owner). */
let nextSalt = 0;
const KEY_SPAN = 2 ** 36;

/**
 * Values made once per list of flag outcomes (a whole OFREP bulk answer)
 * and reused for every request whose flags come out the same: contexts that differ mostly share a
 * list. A client choosing its contexts can still make many lists (distinct keys falling into
 * different splits, identities with overrides of their own), so what is kept is bounded by bytes,
 * not count (lru-cache with `maxSize`, least recently used out first), and a value larger than its
 * share of the budget is not kept at all. By default every instance keeps in one cache shared
 * process-wide ({@link SHARED_LIST_BUDGET}); a value is only ever handed back to the instance that
 * kept it, since the ids of two environments' lists can be the same.
 */
export class KeptByList<T extends KeptForList> {
  private readonly kept: LRUCache<number, Held>;
  private readonly perList: number;
  private readonly salt: number;
  private bytes = 0;

  /**
   * @param sizeOf - the bytes a kept value holds, its ids included.
   * @param budget - a budget of its own (tests); the shared one by default.
   */
  constructor(
    private readonly sizeOf: (value: T) => number,
    budget?: ListBudget,
  ) {
    this.kept = budget === undefined ? (shared ??= cacheOf(SHARED_LIST_BUDGET)) : cacheOf(budget);
    this.perList = (budget ?? SHARED_LIST_BUDGET).perList;
    this.salt = (nextSalt++ % 2 ** 17) * KEY_SPAN;
  }

  /** Bytes this instance's kept values take, as counted against the budget. */
  get bytesKept(): number {
    return this.bytes;
  }

  /** The value kept for the first `count` of `ids` (whose {@link listKey} is `key`), or undefined. */
  get(key: number, ids: readonly number[], count: number): T | undefined {
    const held = this.kept.get(this.salt + (key % KEY_SPAN));
    return held !== undefined && held.owner === this && sameIds(held.value.ids, ids, count) ? (held.value as T) : undefined;
  }

  /** Keeps `value` under `key`, unless it is larger than one list's share of the budget. */
  keep(key: number, value: T): void {
    const size = this.sizeOf(value);
    if (size > this.perList) return;
    this.bytes += size;
    this.kept.set(this.salt + (key % KEY_SPAN), { owner: this, value, size }, { size });
  }

  /** @internal Called by the cache when one of this instance's values leaves it. */
  release(size: number): void {
    this.bytes -= size;
  }
}
