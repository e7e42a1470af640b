import { Random } from './random';
import { isRejectedPattern, regexCase } from './regex-table';

const cases = Array.from({ length: 2000 }, ((random) => () => regexCase(random))(new Random(5)));
const patterns = cases.map((oracleCase) => String(oracleCase.context.segments?.['1']?.rules[0]?.conditions?.[0]?.value));

describe('regexCase', () => {
  it('builds one-condition REGEX contexts that expect no match when Python rejects the pattern', () => {
    for (const oracleCase of cases) {
      expect(oracleCase.context.segments?.['1']?.rules[0]?.conditions).toEqual([{ property: 't', operator: 'REGEX', value: expect.any(String) }]);
      expect(oracleCase.ifPatternRejected).toEqual({ flags: {}, segments: [] });
    }
  });

  it('uses global and scoped flags, possessive and lazy quantifiers, atomic groups and named backreferences', () => {
    for (const piece of ['(?i)', '(?s:', '*+', '+?', '{,2}', '(?>a+)', '(?P=n)', '\\U0001F600']) expect(patterns.some((pattern) => pattern.includes(piece))).toBe(true);
  });

  it('leaves out the known differences: group-scoped IGNORECASE, IGNORECASE with ASCII, numbered backreferences', () => {
    expect(patterns.some((pattern) => /\(\?i[a-z]*:|\(\?ia\)|\\[1-9](?![0-7]{2})/.test(pattern))).toBe(false);
    expect(patterns.some((pattern) => pattern.startsWith('(?i)') && /[İı]/.test(pattern))).toBe(true);
  });
});

describe('isRejectedPattern', () => {
  it("recognises re.error and nothing else", () => {
    expect(isRejectedPattern('error: nothing to repeat at position 0')).toBe(true);
    expect(isRejectedPattern('TypeError: object of type int has no len()')).toBe(false);
  });
});
