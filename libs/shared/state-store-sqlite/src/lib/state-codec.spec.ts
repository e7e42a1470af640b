import { FloatNumber } from '@flagline/python-compat';
import { decodeState, encodeState } from './state-codec';

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

  it('refuses what JSON cannot carry', () => {
    expect(() => encodeState({ big: BigInt(1) })).toThrow(/bigint/);
  });
});
