import { FloatNumber } from '@flagline/python-compat';
import { decodeState, encodeState, encodeStateByValue } from './state-codec';
import { MapOfItsOwn } from './testing/map-of-its-own';

describe('state codec', () => {
  const state = {
    status: 'active',
    revision: 3,
    ratio: 0.5,
    missing: undefined,
    traits: new Map<string, unknown>([['plan', 'pro'], ['seats', 4], ['beta', true]]),
    overrides: new Map<number, unknown>([[7, { enabled: true, value: null, allocations: [{ id: 1, percentage: 50 }] }]]),
    members: new Set([3, 1, 2]),
    nested: new Map([['inner', new Set(['a'])]]),
  };

  it('gives back an equal value: Maps and Sets (keys of any type, in insertion order), nested', () => {
    const decoded = decodeState(encodeState(state)) as typeof state;
    const { missing: _dropped, ...expected } = state;
    expect(decoded).toEqual(expected);
    expect([...decoded.members]).toEqual([3, 1, 2]);
    expect(decoded.overrides.get(7)).toEqual({ enabled: true, value: null, allocations: [{ id: 1, percentage: 50 }] });
    expect('missing' in decoded).toBe(false);
  });

  it('writes the same text for the same value however its numbers were made', () => {
    const computed = { revision: [6].map((n) => n / 2)[0], traits: new Map([['seats', 8 * 0.5]]) };
    expect(encodeState(computed)).toBe(encodeState({ revision: 3, traits: new Map([['seats', 4]]) }));
    expect(encodeState(decodeState(encodeState(state)))).toBe(encodeState(state));
  });

  it('keeps a float written with an integral value (5.0) a float', () => {
    const traits = (decodeState(encodeState({ traits: new Map<string, unknown>([['score', new FloatNumber(5)], ['age', 18]]) })) as { traits: Map<string, unknown> }).traits;
    expect(traits.get('score')).toBeInstanceOf(FloatNumber);
    expect(Number(traits.get('score'))).toBe(5);
    expect(traits.get('age')).toBe(18);
  });

  it('writes a map of another class read as a ReadonlyMap (a persistent map) as the Map of its entries', () => {
    const entries: [number, unknown][] = [[3, { enabled: true }], [1, new MapOfItsOwn([['nested', 1]])]];
    const other = { features: new MapOfItsOwn(entries) };
    const native = { features: new Map<number, unknown>([[3, { enabled: true }], [1, new Map([['nested', 1]])]]) };
    expect(encodeState(other)).toBe(encodeState(native));
    expect(encodeStateByValue(other)).toBe(encodeStateByValue(native));
    const decoded = decodeState(encodeState(other)) as { features: Map<number, unknown> };
    expect(decoded.features).toBeInstanceOf(Map);
    expect([...decoded.features.keys()]).toEqual([3, 1]);
  });

  it('writes a frozen map of another class (a persistent map, which cannot change) from memory once written, and any other map afresh', () => {
    const frozen = MapOfItsOwn.frozen([[1, { enabled: true }], [2, { enabled: false }]]);
    const open = new MapOfItsOwn([[1, { enabled: true }]]);
    const first = encodeState({ revision: 1, features: frozen, states: open });
    const second = encodeState({ revision: 2, features: frozen, states: open });
    expect(frozen.counted.walks).toBe(1);
    expect(open.counted.walks).toBe(2);
    // The by-value encoding (the reference) walks every map.
    expect(second).toBe(encodeStateByValue({ revision: 2, features: frozen, states: open }));
    expect(second).toBe(first.replace('"revision":1', '"revision":2'));
  });

  it('refuses what JSON cannot carry', () => {
    expect(() => encodeState({ big: BigInt(1) })).toThrow(/bigint/);
    expect(() => encodeStateByValue({ nested: [{ big: BigInt(1) }] })).toThrow(/bigint/);
    expect(() => encodeStateByValue({ traits: new Map([['f', () => 1]]) })).toThrow(/function/);
  });

  it('writes the text files already hold: an identity-like state, objects of other classes by their own fields, undefined left out', () => {
    class Point {
      constructor(readonly x: number, readonly y?: number) {}
      toJSON(): string {
        return 'not this';
      }
    }
    const identity = {
      status: 'active',
      identityId: 'f130',
      createdAt: '2026-12-05T21:58:20.395Z',
      traits: new Map<string, unknown>([['plan', 'team'], ['seats', 8], ['score', new FloatNumber(5)], ['beta', true]]),
      overrides: new Map([[7, { featureId: 7, enabled: true, value: null, allocations: [{ id: 1, percentage: 50 }], gone: undefined }]]),
      tags: [1, [2, new Set(['a'])], undefined],
      at: new Point(1),
      when: new Date(0),
      revision: 1,
    };
    const expected =
      '{"status":"active","identityId":"f130","createdAt":"2026-12-05T21:58:20.395Z",' +
      '"traits":{"\\u0000map":[["plan","team"],["seats",8],["score",{"\\u0000float":5}],["beta",true]]},' +
      '"overrides":{"\\u0000map":[[7,{"featureId":7,"enabled":true,"value":null,"allocations":[{"id":1,"percentage":50}]}]]},' +
      '"tags":[1,[2,{"\\u0000set":["a"]}],null],"at":{"x":1},"when":{},"revision":1}';
    expect(encodeStateByValue(identity)).toBe(expected);
    expect(encodeState(identity)).toBe(expected);
    // Parts holding nothing to convert are written as they are, and left as they are.
    const plain = { status: 'active', list: [1, 2, { a: 'b' }], nested: { deep: { n: 1 } } };
    expect(encodeStateByValue(plain)).toBe(JSON.stringify(plain));
    expect(plain).toEqual({ status: 'active', list: [1, 2, { a: 'b' }], nested: { deep: { n: 1 } } });
  });

  describe('a state written again after a change', () => {
    // A project-like state: features and per-environment states in Maps, changed immutably (a
    // change makes new objects along its path and shares the rest), as the domain's evolve does.
    const feature = (id: number) => ({ featureId: id, name: `flag_${id}`, tags: [1, 2], options: [{ optionId: id, value: null }] });
    const base = {
      revision: 1,
      features: new Map(Array.from({ length: 300 }, (_, i) => [i, feature(i)] as const)),
      environments: new Map([[1, { name: 'Production', states: new Map(Array.from({ length: 300 }, (_, i) => [i, { enabled: false, value: i }] as const)) }]]),
      emails: new Map([['ada@example.com', new Set(['inv-1'])]]),
    };

    it('is the text a by-value encoding gives, before and after changes that share unchanged parts', () => {
      expect(encodeState(base)).toBe(encodeStateByValue(base));
      const production = base.environments.get(1) as { name: string; states: Map<number, { enabled: boolean; value: number }> };
      const toggled = {
        ...base,
        revision: 2,
        features: new Map(base.features).set(300, feature(300)),
        environments: new Map([[1, { ...production, states: new Map(production.states).set(7, { enabled: true, value: 7 }) }]]),
      };
      const first = encodeState(toggled);
      expect(first).toBe(encodeStateByValue(toggled));
      expect(first).toContain('[7,{"enabled":true,"value":7}]');
      expect(encodeState(base)).toBe(encodeStateByValue(base));
    });

    it('writes Sets, Maps and arrays filled in place as they are now', () => {
      const before = encodeState(base);
      base.emails.get('ada@example.com')?.add('inv-2');
      const after = encodeState(base);
      expect(after).not.toBe(before);
      expect(after).toBe(encodeStateByValue(base));
      expect(after).toContain('"inv-2"');
    });
  });
});
