import { FloatNumber } from '@flagline/evaluation-engine';
import { tagFloats, toPythonJson } from './python-json';

describe('toPythonJson', () => {
  it('writes integral floats in float form and integral numbers as ints', () => {
    expect(toPythonJson({ float: new FloatNumber(5), int: 5, fraction: 1.5, negative: new FloatNumber(-3) })).toBe(
      '{"float":5.0,"int":5,"fraction":1.5,"negative":-3.0}',
    );
  });

  it('keeps huge integral numbers ints and huge floats floats', () => {
    expect(toPythonJson([1e21, new FloatNumber(1e21), new FloatNumber(1e16), 9007199254740993n])).toBe('[1000000000000000000000,1e+21,10000000000000000.0,9007199254740993]');
  });

  it("writes non-finite numbers as Python's literals", () => {
    expect(toPythonJson({ priority: -Infinity, up: Infinity, nan: NaN, weight: new FloatNumber(-Infinity) })).toBe(
      '{"priority":-Infinity,"up":Infinity,"nan":NaN,"weight":-Infinity}',
    );
  });

  it('writes strings, booleans and null as JSON, leaves out undefined members, on one line', () => {
    expect(toPythonJson({ text: 'a "b"\nc', yes: true, no: false, none: null, gone: undefined, list: [undefined] })).toBe(
      '{"text":"a \\"b\\"\\nc","yes":true,"no":false,"none":null,"list":[null]}',
    );
  });

  it('writes the segments and features of a context in the given order, integer-like keys included', () => {
    const context = {
      environment: { key: 'k', name: 'n' },
      segments: { '20': { key: '20' }, '3': { key: '3' }, b: { key: 'b' } },
      features: { '7': { name: '7' }, a: { name: 'a' } },
    };
    expect(toPythonJson(context, { segments: ['b', '20', '3'], features: ['a', '7'] })).toBe(
      '{"environment":{"key":"k","name":"n"},"segments":{"b":{"key":"b"},"20":{"key":"20"},"3":{"key":"3"}},"features":{"a":{"name":"a"},"7":{"name":"7"}}}',
    );
  });

  it('writes keys missing from the order after the listed ones, and ignores listed keys that are absent', () => {
    expect(toPythonJson({ segments: { '1': 1, '2': 2, '3': 3 } }, { segments: ['3', 'gone'] })).toBe('{"segments":{"3":3,"1":1,"2":2}}');
  });

  it('is read back by JSON.parse to the same values where JSON can tell', () => {
    const value = { a: [1, 'x', { b: null }], c: 2.5 };
    expect(JSON.parse(toPythonJson(value))).toEqual(value);
  });
});

describe('tagFloats', () => {
  it('tags integral and non-finite floats the way reference_engine.py does, and nothing else', () => {
    expect(tagFloats({ a: new FloatNumber(5), b: 5, c: 1.5, d: -Infinity, e: [NaN, 'x', null, true], f: 7n })).toEqual({
      a: { $float: 5 },
      b: 5,
      c: 1.5,
      d: { $float: '-inf' },
      e: [{ $float: 'nan' }, 'x', null, true],
      f: 7,
    });
  });
});
