import { compilePythonRegex, matchesPythonRegex } from './python-regex.translator';

/** `re.match(pattern, text)` outcomes as CPython 3.11 gives them ('error': the pattern is rejected). */
const PYTHON_OUTCOMES: ReadonlyArray<readonly [string, string, boolean | 'error']> = [
    ["[a-z]", "abc", true],
    ["\\d+", "١٢", true],
    ["abc$", "abc\n", true],
    ["abc$", "abc\n\n", false],
    ["abc\\Z", "abc\n", false],
    ["a.c", "a\nc", false],
    ["(?s)a.c", "a\nc", true],
    ["(?P<x>a)(?P=x)", "aa", true],
    ["a{,2}b", "aab", true],
    ["a{,}b", "aaab", true],
    ["{", "{", true],
    ["a{1", "a{1", true],
    ["x{}", "x{}", true],
    ["(?i)ABC", "abc", true],
    ["\\w+", "héllo", true],
    ["\\bfoo\\b", "foo bar", true],
    ["[\\d]", "5", true],
    ["[^\\d]", "a", true],
    ["[\\w-]+", "a-b", true],
    ["[]a]", "]", true],
    ["[^]a]", "b", true],
    ["(?x) a b # comment\n c", "abc", true],
    ["\\x41", "A", true],
    ["\\101", "A", true],
    ["\\0", "\u0000", true],
    ["(a)\\1", "aa", true],
    ["a**", "a", "error"],
    ["*a", "a", "error"],
    ["(?<name>a)", "a", "error"],
    ["a++", "aa", true],
    ["(?>a)", "a", true],
    ["\\q", "q", "error"],
    ["[a-\\d]", "a", "error"],
    ["\\u00e9", "é", true],
    ["(?m)^b", "a\nb", false],
    ["^b", "a\nb", false],
    ["a|b", "b", true],
    ["\\s", "\u001c", true],
    ["\\s", "﻿", false],
    ["[\\s]", "", true],
    ["\\W", "-", true],
    ["[\\W]", "-", true],
    ["\\.", ".", true],
    ["\\-", "-", true],
    ["[\\-]", "-", true],
    ["a(?#comment)b", "ab", true],
    ["a(?=b)", "ab", true],
    ["(?<=a)b", "ab", false],
    ["(?!a)b", "b", true],
    ["\\Aab", "ab", true],
    ["(?a)\\w", "é", false],
    ["\\$", "$", true],
    ["a$|b", "a", true],
    ["[a-z]+@example\\.com", "bob@example.com", true],
    ["^\\d{3}-\\d{4}$", "555-1234", true],
    ["(?i)straße", "STRASSE", false],
    ["é", "É", false],
    ["(?i)é", "É", true],
    ["[[a]", "[", true],
    ["a{2,1}", "aa", "error"],
    ["(a)(?P=x)", "a", "error"],
    ["(?P<1a>x)", "x", "error"],
    ["\\8", "8", "error"],
    ["[\\8]", "8", "error"],
    ["\\12", "\n", "error"],
    ["(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10", "abcdefghijj", true],
    ["\\U0001F600", "😀", true],
    [".", "😀", true],
    ["[😀-😂]", "😁", true],
    ["(?u)a", "a", true],
    ["(?L)a", "a", "error"],
    ["a{3}{2}", "aaaaaa", "error"],
    ["(?:a)*?b", "aab", true],
    ["\\b", "abc", true],
    ["\\B", "abc", false],
    ["x*", "abc", true],
    ["(?x)[ ]", "  ", true],
    ["(?i)[^a]", "A", false],
    ["True", "True", true],
    ["1\\.0", "1.0", true],
    ["\\d+\\Z", "123", true],
    ["ab\\\n", "ab\n", true],
    ["(?>a+)a", "aaa", false],
    ["a++a", "aaa", false],
    ["a*+b", "aab", true],
    ["(a)++\\1", "aaa", false],
    ["(?:ab)?+c", "abc", true],
    ["x(a|ab)++c", "xabc", false],
    ["[ab]{1,2}+b", "abb", true],
    ["(a)(?>b)(c)\\2", "abcc", true],
    ["\\d{2,}+", "123", true],
    ["(?i)(?P<a>x)(?P=a)", "xX", true],
    // A quantifier after an atomic group applies to the whole group.
    ["(?>a+)*", "", true],
    ["(?>a+)*b", "aab", true],
    ["(?>a+)?", "", true],
    ["(?>ab){2}", "ababx", true],
    ["(?>a+){,2}b", "b", true],
    ["x(?>a|ab)*c", "xabc", false],
    ["(?>a+)*+", "SS", true],
    ["(?:(?>a+)b)+", "abab", true],
    // `.` under DOTALL, repeated (Node 20's V8 matches /[^]{2}/v against a single character).
    ["(?s).{2}", "I", false],
    ["(?s).{2}", "ab", true],
    ["(?s)a.{2}", "ab", false],
    ["(?s).{1,}\\Z", "\n", true],
    // `\B` never matches an empty string.
    ["\\B", "", false],
    ["\\B\\Z", "", false],
    ["\\B", " ", true],
    ["\\B", "ab", false],
    ["a\\B", "ab", true],
    // Under IGNORECASE Python holds i, I, İ and ı for one letter (and ΐ/ΐ, ΰ/ΰ), unlike JS's case folding.
    ["(?i)i", "İ", true],
    ["(?i)i", "ı", true],
    ["(?i)I", "ı", true],
    ["(?i)ı", "I", true],
    ["(?i)İ", "i", true],
    ["(?i)İ", "ı", true],
    ["(?i)[a-z]+$", "ıİ", true],
    ["(?i)[A-Z]", "ı", true],
    ["(?i)[^i]", "ı", false],
    ["(?i)[^a]", "ı", true],
    ["(?i)\\x49", "ı", true],
    ["(?i)\\111", "İ", true],
    ["i", "İ", false],
    ["[a-z]", "ı", false],
    ["(?i)[ı]", "i", true],
    ["(?i)[h-j]", "İ", true],
    ["(?i)ΐ", "ΐ", true],
    ["(?i)ΰ", "ΰ", true],
];

function pythonMatch(pattern: string, text: string): boolean | 'error' {
  const regex = compilePythonRegex(pattern);
  return regex === null ? 'error' : matchesPythonRegex(regex, text);
}

describe('Python regex translation', () => {
  describe('given patterns checked against CPython', () => {
    it.each(PYTHON_OUTCOMES)('when /%s/ is matched against %j then the outcome is %s', (pattern, text, expected) => {
      expect(pythonMatch(pattern, text)).toBe(expected);
    });
  });

  describe('given a compiled pattern used repeatedly', () => {
    it('when it matched once then the next match still starts at index 0', () => {
      const regex = compilePythonRegex('[a-z]+');

      expect(regex).not.toBeNull();
      if (regex === null) return;
      expect(matchesPythonRegex(regex, 'abc')).toBe(true);
      expect(matchesPythonRegex(regex, '1abc')).toBe(false);
      expect(matchesPythonRegex(regex, 'abc')).toBe(true);
    });
  });

  describe('given constructs JS cannot express here', () => {
    it('when case-insensitivity is scoped to a group then the pattern never matches', () => {
      expect(compilePythonRegex('(?i:a)b')).toBeNull();
    });
  });
});
