import { OrderedMap } from 'immutable';

/**
 * A `ReadonlyMap` whose changes make a new map sharing every entry they leave alone (a hash array
 * mapped trie, immutable.js's `OrderedMap`): adding a feature to a project of thousands costs a
 * few small nodes, not a copy of every entry, so folding an event costs what it changes. Entries
 * keep the order a `Map` gives them (insertion order; a key set again keeps its place), so a state
 * folded with it iterates, renders and encodes as one folded with `Map`s did.
 *
 * Readers see a plain `ReadonlyMap`. Folds start from whatever map they hold (a `Map` decoded from
 * a stored snapshot, say) through `PersistentMap.from`, which converts it once.
 */
export class PersistentMap<K, V> implements ReadonlyMap<K, V> {
  private static readonly EMPTY = new PersistentMap<never, never>(OrderedMap<never, never>());

  // Frozen: nothing about a persistent map changes, which lets encoders remember its text.
  private constructor(private readonly entries_: OrderedMap<K, V>) {
    Object.freeze(this);
  }

  static empty<K, V>(): PersistentMap<K, V> {
    return PersistentMap.EMPTY;
  }

  /** The map as a persistent one: itself when it is one already, else its entries in their order. */
  static from<K, V>(map: ReadonlyMap<K, V> | Iterable<readonly [K, V]>): PersistentMap<K, V> {
    if (map instanceof PersistentMap) return map as PersistentMap<K, V>;
    return new PersistentMap(OrderedMap<K, V>(map as Iterable<[K, V]>));
  }

  get size(): number {
    return this.entries_.size;
  }

  get(key: K): V | undefined {
    return this.entries_.get(key);
  }

  has(key: K): boolean {
    return this.entries_.has(key);
  }

  /** A map with `key` set to `value` (in its place if present, last if new). */
  set(key: K, value: V): PersistentMap<K, V> {
    const next = this.entries_.set(key, value);
    return next === this.entries_ ? this : new PersistentMap(next);
  }

  /** A map without `key` (this one when it has no such key). */
  delete(key: K): PersistentMap<K, V> {
    const next = this.entries_.delete(key);
    return next === this.entries_ ? this : new PersistentMap(next);
  }

  /** A map with every value changed, keys and order kept. */
  mapValues(change: (value: V, key: K) => V): PersistentMap<K, V> {
    return new PersistentMap(this.entries_.map(change));
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    // immutable.js stops a forEach whose callback returns false: this one visits every entry.
    this.entries_.forEach((value, key) => {
      callback.call(thisArg, value, key, this);
    });
  }

  // The iterators walk an array filled by forEach: several times faster than immutable.js's own
  // iterators over its trie.
  keys(): MapIterator<K> {
    const keys: K[] = [];
    this.entries_.forEach((_value, key) => {
      keys.push(key);
    });
    return keys.values();
  }

  values(): MapIterator<V> {
    const values: V[] = [];
    this.entries_.forEach((value) => {
      values.push(value);
    });
    return values.values();
  }

  entries(): MapIterator<[K, V]> {
    const entries: [K, V][] = [];
    this.entries_.forEach((value, key) => {
      entries.push([key, value]);
    });
    return entries.values();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'PersistentMap';
  }
}
