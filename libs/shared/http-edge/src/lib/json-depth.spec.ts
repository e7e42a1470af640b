import { jsonDepthExceeds, MAX_JSON_DEPTH } from './json-depth';

const nestedArrays = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;

describe('jsonDepthExceeds', () => {
  it('accepts nesting up to the limit and refuses one level more, as text and as bytes', () => {
    expect(jsonDepthExceeds(nestedArrays(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonDepthExceeds(nestedArrays(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonDepthExceeds(Buffer.from(nestedArrays(MAX_JSON_DEPTH)))).toBe(false);
    expect(jsonDepthExceeds(Buffer.from(nestedArrays(MAX_JSON_DEPTH + 1)))).toBe(true);
  });

  it('counts objects and arrays alike, and depth rather than the number of brackets', () => {
    expect(jsonDepthExceeds('{"a":{"b":[{"c":1}]}}', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":{"b":[{"c":1}]}}', 4)).toBe(false);
    const wide = `[${Array.from({ length: 500 }, () => '[[1]]').join(',')}]`;
    expect(jsonDepthExceeds(wide, 3)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ a: '['.repeat(200), b: '\\"{{{{{{', c: '"]]]]' });
    expect(jsonDepthExceeds(text, 1)).toBe(false);
    expect(jsonDepthExceeds(`{"a":"\\\\",${'['.repeat(10)}`, 5)).toBe(true);
  });

  it('answers from the count of opening brackets when there are too few to exceed the limit, and scans when there are more', () => {
    const long = JSON.stringify({ identifier: 'x'.repeat(1_000), traits: [{ trait_key: 'a', trait_value: 1 }] });
    expect(jsonDepthExceeds(long, 3)).toBe(false);
    expect(jsonDepthExceeds(long, 2)).toBe(true);
    expect(jsonDepthExceeds(`${nestedArrays(3)}${' '.repeat(100)}`, 2)).toBe(true);
    expect(jsonDepthExceeds(`["[",${' '.repeat(100)}"["]`, 1)).toBe(false);
  });

  it('judges malformed text on what it holds (the parser rejects it afterwards)', () => {
    expect(jsonDepthExceeds('['.repeat(10_000))).toBe(true);
    expect(jsonDepthExceeds(']'.repeat(10_000))).toBe(false);
  });
});
