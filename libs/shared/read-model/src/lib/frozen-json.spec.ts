import { frozenJson } from './frozen-json';
import { deepFreeze } from './in-memory-read-model.store';

describe('frozenJson', () => {
  it('writes what JSON.stringify writes, for every kind of JSON value and what JSON leaves out', () => {
    const values: unknown[] = [
      null,
      'text "quoted" \u2028 \ud83d\ude00',
      0,
      -1.5,
      1e21,
      Number.NaN,
      true,
      [],
      {},
      [1, 'a', null, undefined, () => 1, { nested: [{ deep: true }] }],
      { a: 1, b: undefined, c: () => 1, d: Symbol('s'), 2: 'two', 1: 'one', e: { f: [1, 2, { g: null }] } },
      { date: new Date(0) },
    ];
    for (const value of values) {
      expect(frozenJson(value)).toBe(JSON.stringify(value));
      expect(frozenJson(deepFreeze(structuredCloneOrSame(value)))).toBe(JSON.stringify(value));
    }
  });

  it('writes a new revision of a frozen document that shares unchanged entries exactly as JSON.stringify does', () => {
    const entry = (id: number, enabled: boolean) => ({ feature: { id, name: `flag_${id}` }, state: { enabled, value: id, allocations: [] } });
    const first = deepFreeze({ revision: 1, features: Array.from({ length: 500 }, (_, id) => entry(id, false)) });
    expect(frozenJson(first)).toBe(JSON.stringify(first));
    const features = [...first.features];
    features[7] = entry(7, true);
    features.push(entry(500, true));
    const second = deepFreeze({ ...first, revision: 2, features });
    expect(second.features[8]).toBe(first.features[8]);
    expect(frozenJson(second)).toBe(JSON.stringify(second));
    expect(frozenJson(second)).toContain('{"feature":{"id":7,"name":"flag_7"},"state":{"enabled":true');
  });

  it('writes objects that are not frozen as they are now', () => {
    const entry = { enabled: false };
    const document = { features: [entry] };
    expect(frozenJson(document)).toBe('{"features":[{"enabled":false}]}');
    entry.enabled = true;
    expect(frozenJson(document)).toBe('{"features":[{"enabled":true}]}');
  });
});

function structuredCloneOrSame(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}
