import { KeptByList, keptIds, listKey, SHARED_LIST_BUDGET, type KeptForList } from './kept-by-list';

/** A value that says how many bytes it holds, so a budget fills without allocating them. */
interface Sized extends KeptForList {
  readonly name: string;
  readonly size: number;
}

const ids = [3, 1, 4, 1, 5];
const key = listKey(ids, ids.length);
const sized = (name: string, size: number): Sized => ({ ids: keptIds(ids, ids.length), name, size });

describe('KeptByList in the process-wide budget', () => {
  it('hands a value only to the instance that kept it, even for the same list of ids', () => {
    const first = new KeptByList<Sized>((value) => value.size);
    const second = new KeptByList<Sized>((value) => value.size);
    first.keep(key, sized('first', 100));
    expect(first.get(key, ids, ids.length)?.name).toBe('first');
    expect(second.get(key, ids, ids.length)).toBeUndefined();
    second.keep(key, sized('second', 100));
    expect(first.get(key, ids, ids.length)?.name).toBe('first');
    expect(second.get(key, ids, ids.length)?.name).toBe('second');
    // Another list under the same key (a collision) is not answered with the kept value.
    expect(first.get(key, [3, 1, 4, 1, 6], 5)).toBeUndefined();
  });

  it('bounds what every instance keeps together, least recently used out first', () => {
    const instances = Array.from({ length: 20 }, () => new KeptByList<Sized>((value) => value.size));
    const share = SHARED_LIST_BUDGET.perList;
    instances.forEach((instance, index) => instance.keep(key, sized(`list-${index}`, share)));
    const total = instances.reduce((sum, instance) => sum + instance.bytesKept, 0);
    expect(total).toBeLessThanOrEqual(SHARED_LIST_BUDGET.bytes);
    expect(total).toBeGreaterThan(SHARED_LIST_BUDGET.bytes - 2 * share);
    // The first instances' values went first; the last one's is still kept.
    expect(instances[0]?.get(key, ids, ids.length)).toBeUndefined();
    expect(instances[0]?.bytesKept).toBe(0);
    expect(instances[19]?.get(key, ids, ids.length)?.name).toBe('list-19');
  });

  it('keeps no value over one list share, and a budget of its own when given one', () => {
    const shared = new KeptByList<Sized>((value) => value.size);
    shared.keep(key, sized('too large', SHARED_LIST_BUDGET.perList + 1));
    expect(shared.get(key, ids, ids.length)).toBeUndefined();
    expect(shared.bytesKept).toBe(0);
    const own = new KeptByList<Sized>((value) => value.size, { bytes: 300, perList: 200 });
    own.keep(key, sized('a', 160));
    own.keep(listKey([9], 1), { ids: keptIds([9], 1), name: 'b', size: 160 });
    expect(own.bytesKept).toBe(160);
    expect(own.get(key, ids, ids.length)).toBeUndefined();
  });
});
