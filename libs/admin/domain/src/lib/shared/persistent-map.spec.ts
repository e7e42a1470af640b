import { PersistentMap } from './persistent-map';

/** A small deterministic generator (mulberry32), so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('PersistentMap', () => {
  it('keeps the order a Map keeps through any mix of sets and deletes', () => {
    for (const seed of [1, 2, 3]) {
      const next = random(seed);
      const native = new Map<number, string>();
      let persistent = PersistentMap.empty<number, string>();
      for (let step = 0; step < 3000; step++) {
        const key = Math.floor(next() * 200);
        if (next() < 0.3) {
          native.delete(key);
          persistent = persistent.delete(key);
        } else {
          native.set(key, `v${step}`);
          persistent = persistent.set(key, `v${step}`);
        }
      }
      expect([...persistent]).toEqual([...native]);
      expect([...persistent.keys()]).toEqual([...native.keys()]);
      expect([...persistent.values()]).toEqual([...native.values()]);
      expect([...persistent.entries()]).toEqual([...native.entries()]);
      expect(persistent.size).toBe(native.size);
      for (let key = 0; key < 200; key++) {
        expect(persistent.has(key)).toBe(native.has(key));
        expect(persistent.get(key)).toBe(native.get(key));
      }
    }
  });

  it('is frozen, as nothing about it changes (the state codec remembers the text of frozen maps)', () => {
    expect(Object.isFrozen(PersistentMap.from(new Map([[1, 'a']])).set(2, 'b'))).toBe(true);
    expect(Object.isFrozen(PersistentMap.empty())).toBe(true);
  });

  it('leaves the map it was made from as it was', () => {
    const before = PersistentMap.from(new Map([[1, 'a'], [2, 'b']]));
    const after = before.set(2, 'c').set(3, 'd').delete(1);
    expect([...before]).toEqual([[1, 'a'], [2, 'b']]);
    expect([...after]).toEqual([[2, 'c'], [3, 'd']]);
  });

  it('answers itself for a change that changes nothing', () => {
    const value = { id: 1 };
    const map = PersistentMap.from(new Map<number, { id: number }>([[1, value]]));
    expect(map.set(1, value)).toBe(map);
    expect(map.delete(2)).toBe(map);
    expect(PersistentMap.from(map)).toBe(map);
  });

  it('maps values in place, keys and order kept', () => {
    const map = PersistentMap.from(new Map([[3, 1], [1, 2], [2, 3]]));
    expect([...map.mapValues((value, key) => value * 10 + key)]).toEqual([[3, 13], [1, 21], [2, 32]]);
  });

  it('visits every entry with forEach, whatever the callback returns', () => {
    const map = PersistentMap.from(new Map([['a', 1], ['b', 2], ['c', 3]]));
    const seen: [string, number, ReadonlyMap<string, number>][] = [];
    map.forEach((value, key, owner) => {
      seen.push([key, value, owner]);
      return false as unknown as void;
    });
    expect(seen).toEqual([['a', 1, map], ['b', 2, map], ['c', 3, map]]);
  });

  it('reads like a Map: spread, Array.from, new Map', () => {
    const map = PersistentMap.from(new Map([['x', 1]])).set('y', 2);
    expect(new Map(map)).toEqual(new Map([['x', 1], ['y', 2]]));
    expect(Array.from(map.keys())).toEqual(['x', 'y']);
    expect(Object.prototype.toString.call(map)).toBe('[object PersistentMap]');
  });
});
