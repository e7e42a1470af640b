import { comparePyStrings, pyRepr, pyStr } from './python-string';

describe('Python string semantics', () => {
  describe('given strings ordered by code point', () => {
    it('when an astral character meets a BMP character above U+E000 then the astral one is greater', () => {
      const sorted = ['\u{1F600}', '\uffff', 'a', '\ue000'].sort(comparePyStrings);

      expect(sorted).toEqual(['a', '\ue000', '\uffff', '\u{1F600}']);
    });

    it('when one string is a prefix of the other then the shorter sorts first', () => {
      expect(comparePyStrings('ab', 'abc')).toBe(-1);
      expect(comparePyStrings('abc', 'abc')).toBe(0);
      expect(comparePyStrings('b', 'abc')).toBe(1);
    });
  });

  describe('given JSON values printed with str()', () => {
    it('when scalars are printed then they use Python spellings', () => {
      expect(pyStr(null)).toBe('None');
      expect(pyStr(true)).toBe('True');
      expect(pyStr(1.5)).toBe('1.5');
      expect(pyStr(7)).toBe('7');
      expect(pyStr('text')).toBe('text');
    });

    it('when a list is printed then elements use repr() and quotes are chosen as Python does', () => {
      expect(pyRepr(['a', 1, 1.5, null, true, { k: "it's" }])).toBe(`['a', 1, 1.5, None, True, {'k': "it's"}]`);
    });
  });
});
