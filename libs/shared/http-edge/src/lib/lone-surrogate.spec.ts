import { jsonHasLoneSurrogate } from './lone-surrogate';

describe('jsonHasLoneSurrogate', () => {
  it.each([
    ['a high surrogate alone', '{"name":"\\ud800"}'],
    ['a high surrogate followed by a letter', '{"name":"\\uD83Dx"}'],
    ['a low surrogate alone', '{"name":"a\\udc00"}'],
    ['two high surrogates', '{"name":"\\ud83d\\ud83d"}'],
    ['a lone surrogate in a key', '{"\\udfff":1}'],
    ['a high surrogate at the end of the text', '"\\ud800"'],
  ])('finds %s, as text and as bytes', (_what, json) => {
    expect(jsonHasLoneSurrogate(json)).toBe(true);
    expect(jsonHasLoneSurrogate(Buffer.from(json, 'utf8'))).toBe(true);
  });

  it.each([
    ['a surrogate pair', '{"name":"\\ud83d\\ude00"}'],
    ['the same character written raw', '{"name":"😀"}'],
    ['an escaped backslash before u', '{"name":"\\\\ud800"}'],
    ['other escapes', '{"name":"\\u00e9\\n\\"\\ud7ff\\ue000"}'],
    ['text outside strings', '{"a":[1,2,{"b":null}]}'],
  ])('accepts %s', (_what, json) => {
    expect(jsonHasLoneSurrogate(json)).toBe(false);
    expect(jsonHasLoneSurrogate(Buffer.from(json, 'utf8'))).toBe(false);
  });

  it('judges what JSON.parse would make of the text', () => {
    // encodeURIComponent refuses exactly the strings that hold a lone surrogate.
    const wellFormed = (text: string): boolean => {
      try {
        encodeURIComponent(text);
        return true;
      } catch {
        return false;
      }
    };
    for (const json of ['"\\ud800"', '"\\ud83d\\ude00"', '"\\\\ud800"', '"x\\udc00y"']) {
      const parsed = JSON.parse(json) as string;
      expect(jsonHasLoneSurrogate(json)).toBe(!wellFormed(parsed));
    }
  });
});
