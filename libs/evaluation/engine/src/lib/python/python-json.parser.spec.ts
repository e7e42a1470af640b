import { parsePyJsonArrayAsStrings } from './python-json.parser';

describe('IN list parsing with Python json.loads', () => {
  describe('given a JSON array', () => {
    it('when elements have mixed types then each is printed with str()', () => {
      expect(parsePyJsonArrayAsStrings('["a", 1, 1.0, 1e2, true, null, [1, "b"], {"k": 2}]')).toEqual([
        'a',
        '1',
        '1.0',
        '100.0',
        'True',
        'None',
        "[1, 'b']",
        "{'k': 2}",
      ]);
    });

    it('when it holds a big integer, NaN or Infinity then they print as Python does', () => {
      expect(parsePyJsonArrayAsStrings('[12345678901234567890, NaN, -Infinity]')).toEqual(['12345678901234567890', 'nan', '-inf']);
    });

    it('when strings carry escapes then they are decoded', () => {
      expect(parsePyJsonArrayAsStrings('["a\\"b", "\\u00e9", "x\\ny"]')).toEqual(['a"b', 'é', 'x\ny']);
    });
  });

  describe('given text that is not a JSON array', () => {
    it.each(['[1, 2', '[01]', '["a" "b"]', '[1,]', '"scalar"', '{"k": 1}', '["\u0001"]'])('when %j is parsed then there is no list', (text) => {
      expect(parsePyJsonArrayAsStrings(text)).toBeUndefined();
    });
  });
});
