/**
 * For specs: a map of a class of its own that reads as a `ReadonlyMap`, as the domain's
 * persistent maps do (the codec writes it as a `Map`, and may trust a frozen one by reference).
 * Its entries sit in a field a plain-object encoding would write instead; it counts the walks of
 * its entries.
 */
export class MapOfItsOwn<K, V> implements ReadonlyMap<K, V> {
  /** How many times its entries were walked (an object of its own: it counts in a frozen map too). */
  readonly counted = { walks: 0 };
  private readonly inner: Map<K, V>;

  constructor(entries: Iterable<readonly [K, V]>) {
    this.inner = new Map(entries);
  }

  /** A frozen one, as a persistent map is: no change can reach it. */
  static frozen<K, V>(entries: Iterable<readonly [K, V]>): MapOfItsOwn<K, V> {
    const map = new MapOfItsOwn(entries);
    Object.freeze(map);
    return map;
  }

  get size(): number {
    return this.inner.size;
  }
  get(key: K): V | undefined {
    return this.inner.get(key);
  }
  has(key: K): boolean {
    return this.inner.has(key);
  }
  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    this.counted.walks++;
    this.inner.forEach((value, key) => callback(value, key, this));
  }
  keys(): MapIterator<K> {
    return this.inner.keys();
  }
  values(): MapIterator<V> {
    return this.inner.values();
  }
  entries(): MapIterator<[K, V]> {
    return this.inner.entries();
  }
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.inner.entries();
  }

  /** A frozen map with `key` set, sharing every other entry. */
  with(key: K, value: V): MapOfItsOwn<K, V> {
    const next = new Map(this.inner);
    next.set(key, value);
    return MapOfItsOwn.frozen(next);
  }
}
