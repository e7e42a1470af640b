import { parseFrozen } from './frozen-json';

/** Every object and array reachable from `value`, itself included. */
function objectsIn(value: unknown): object[] {
  if (typeof value !== 'object' || value === null) return [];
  return [value, ...Object.values(value).flatMap(objectsIn)];
}

describe('parseFrozen', () => {
  const identity = {
    environmentId: 4,
    identifier: 'ada',
    identityUuid: '4f6bc8b4-bb9e-c5a1-81dd-4073c9955553',
    traits: { plan: 'pro', seats: 5, beta: true, ratio: 0.5 },
    floats: ['seats'],
    overrides: [{ featureId: 3, state: { enabled: true, value: { kind: 'string', text: 'gold' }, variants: [{ id: 1, weight: 50 }] } }],
    revision: 2,
  };

  it('reads what JSON.parse reads, every object and array in it frozen', () => {
    const parsed = parseFrozen(JSON.stringify(identity));
    expect(parsed).toEqual(identity);
    const objects = objectsIn(parsed);
    // The document, traits, floats, overrides, the override, its state, value, variants and the variant.
    expect(objects).toHaveLength(9);
    for (const object of objects) expect(Object.isFrozen(object)).toBe(true);
    expect(() => (parsed as { traits: Record<string, unknown> }).traits['plan'] = 'free').toThrow(TypeError);
    expect(() => (parsed as { overrides: unknown[] }).overrides.push({})).toThrow(TypeError);
  });

  it('freezes a "__proto__" member as the own member JSON.parse makes of it, leaving the prototype alone', () => {
    const parsed = parseFrozen('{"traits":{"__proto__":{"polluted":true},"plan":"pro"}}') as { traits: Record<string, unknown> };
    const member = Object.getOwnPropertyDescriptor(parsed.traits, '__proto__')?.value as object;
    expect(member).toEqual({ polluted: true });
    expect(Object.isFrozen(member)).toBe(true);
    expect(Object.getPrototypeOf(parsed.traits)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('answers scalars and null as JSON.parse does, and throws on text that is not JSON', () => {
    expect(parseFrozen('null')).toBeNull();
    expect(parseFrozen('5')).toBe(5);
    expect(parseFrozen('"text"')).toBe('text');
    expect(Object.isFrozen(parseFrozen('[[1],[2,[3]]]'))).toBe(true);
    expect(() => parseFrozen('{"open":')).toThrow(SyntaxError);
  });
});
