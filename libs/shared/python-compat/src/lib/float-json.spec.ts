import { FloatNumber } from './float-number';
import { floatJson, mayHoldFloat, parseJsonKeepingFloats, sameScalar, stringifyJsonKeepingFloats, valueText } from './float-json';

describe('parseJsonKeepingFloats', () => {
  it.each([
    '{"a": 1, "b": [true, false, null, "x\\u00e9\\"y"], "c": {"d": -0.5, "e": 1.5e-3}}',
    '[1.25, "2.0", "1e3", {"__proto__": 1.5}]',
    ' {"score": 5.5 , "nested": [[], {}, [1.5, [2.75]]]} ',
    '"a string with 5.0 in it"',
    '{"a": 1, "a": 2.5}',
  ])('gives what JSON.parse gives when no integral float is written: %s', (text) => {
    expect(parseJsonKeepingFloats(text)).toEqual(JSON.parse(text));
  });

  it('keeps numbers written as floats with integral values as FloatNumbers', () => {
    const parsed = parseJsonKeepingFloats('{"score": 5.0, "age": 18, "big": 1e3, "neg": -2.00, "exp": 2.5E1, "half": 0.5, "s": "7.0"}') as Record<string, unknown>;
    expect(parsed['score']).toBeInstanceOf(FloatNumber);
    expect(Number(parsed['score'])).toBe(5);
    expect(parsed['age']).toBe(18);
    expect(parsed['big']).toBeInstanceOf(FloatNumber);
    expect(Number(parsed['neg'])).toBe(-2);
    expect(parsed['neg']).toBeInstanceOf(FloatNumber);
    expect(parsed['exp']).toBeInstanceOf(FloatNumber);
    expect(parsed['half']).toBe(0.5);
    expect(parsed['s']).toBe('7.0');
  });

  it.each([
    ['{"a":5.0}', true],
    ['[1, 2.00]', true],
    ['{"a": 1.5e1}', true],
    ['-3e0', true],
    ['7.0', true],
    ['{"v":"2.0.0","n":18,"r":5.25}', false],
    ['{"a":5.01}', false],
    ['{"a":10.5}', false],
    ['{"v":"1.2.0","w":"3.0.0-beta"}', false],
    ['{"a":10.00}', true],
    ['{"a":1.5E+2}', true],
  ])('tells cheaply whether %s may hold an integral float: %p', (text, may) => {
    expect(mayHoldFloat(text)).toBe(may);
  });

  it('defines a "__proto__" key as an own property', () => {
    const parsed = parseJsonKeepingFloats('{"__proto__": 1.0}') as Record<string, unknown>;
    expect(Object.hasOwn(parsed, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it.each(['{"a": 1.0', '{"a": 1.0,}', '[1.0 2]', '{"a": 01.0}', '{"a": "x\ny", "b": 1.0}', '{"a": 1.0} x', '{a: 1.0}', '1.', 'tru 1.0'])(
    'refuses invalid JSON with a SyntaxError, as JSON.parse does: %s',
    (text) => {
      expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
      expect(() => parseJsonKeepingFloats(text)).toThrow(SyntaxError);
    },
  );
});

describe('writing floats', () => {
  it.each([
    [5, '5.0'],
    [-0, '-0.0'],
    [-18, '-18.0'],
    [1e16, '1e+16'],
    [2.5, '2.5'],
  ])('writes the float %p as Python json.dumps does: %s', (value, text) => {
    expect(floatJson(value)).toBe(text);
  });

  it('writes FloatNumbers as floats and everything else as JSON.stringify does', () => {
    const value = { traits: { score: new FloatNumber(5), age: 18, name: 'ada', list: [new FloatNumber(1), 2.5] }, at: new Date(0), skipped: undefined };
    expect(stringifyJsonKeepingFloats(value)).toBe('{"traits":{"score":5.0,"age":18,"name":"ada","list":[1.0,2.5]},"at":"1970-01-01T00:00:00.000Z"}');
    const plain = { a: [1, 'x', null, true], b: { c: 1.5 } };
    expect(stringifyJsonKeepingFloats(plain)).toBe(JSON.stringify(plain));
  });

  it('round-trips what it parses', () => {
    const text = '{"score":5.0,"age":18,"ratio":0.25,"tags":["a",1.0]}';
    expect(stringifyJsonKeepingFloats(parseJsonKeepingFloats(text))).toBe(text);
  });

  it('prints and compares values as Python sees them', () => {
    expect(valueText(new FloatNumber(18))).toBe('18.0');
    expect(valueText(18)).toBe('18');
    expect(sameScalar(new FloatNumber(5), new FloatNumber(5))).toBe(true);
    expect(sameScalar(new FloatNumber(5), 5)).toBe(false);
    expect(sameScalar(5, new FloatNumber(5))).toBe(false);
    expect(sameScalar('5', '5')).toBe(true);
  });
});
