import type { FieldError } from '../shared/domain-error';
import {
  MAX_CONDITION_VALUE_LENGTH,
  MAX_CONDITIONS,
  MAX_RULE_DEPTH,
  normaliseConditionValue,
  OPERATORS,
  parseSegmentRules,
  type ConditionValueInput,
  type SegmentRuleInput,
} from './segment-rule';

/** One ALL rule holding one condition. */
const oneCondition = (operator: string, value: ConditionValueInput, property: string | null = 'plan'): SegmentRuleInput[] => [
  { type: 'ALL', conditions: [{ property, operator, value }] },
];

const errorsOf = (input: readonly SegmentRuleInput[]): FieldError[] => parseSegmentRules(input).errors;
const storedValueOf = (input: readonly SegmentRuleInput[]): string | null | undefined => parseSegmentRules(input).rules[0]?.conditions[0]?.value;

const VALUE = 'rules[0].conditions[0].value';

describe('Segment rules', () => {
  describe('when valid', () => {
    const valid: [string, ConditionValueInput, string | null][] = [
      ['EQUAL', 'pro', 'pro'],
      ['NOT_EQUAL', false, 'false'],
      ['GREATER_THAN', 10, '10'],
      ['GREATER_THAN_INCLUSIVE', '1.2.3:semver', '1.2.3:semver'],
      ['LESS_THAN', '2.5', '2.5'],
      ['LESS_THAN_INCLUSIVE', '1.2.3-beta.1:semver', '1.2.3-beta.1:semver'],
      ['CONTAINS', '@acme.com', '@acme.com'],
      ['NOT_CONTAINS', 'test', 'test'],
      ['REGEX', '^[a-z]+\\d*$', '^[a-z]+\\d*$'],
      ['PERCENTAGE_SPLIT', 25, '25'],
      ['IS_SET', null, null],
      ['IS_NOT_SET', undefined, null],
      ['MODULO', '2|0', '2|0'],
      ['IN', 'pro,enterprise', 'pro,enterprise'],
    ];

    it('covers every operator', () => {
      expect(valid.map(([operator]) => operator).sort()).toEqual([...OPERATORS].sort());
    });

    it.each(valid)('accepts %s with %p, stored as %p', (operator, value, stored) => {
      const parsed = parseSegmentRules(oneCondition(operator, value));
      expect(parsed.errors).toEqual([]);
      expect(parsed.rules[0]?.conditions[0]?.value).toBe(stored);
    });

    it('returns the tree in stored form', () => {
      const parsed = parseSegmentRules([
        {
          type: 'ANY',
          conditions: [{ property: 'plan', operator: 'IN', value: ['pro', 2, true], description: 'Paying plans' }],
          rules: [{ type: 'NONE', conditions: [{ operator: 'PERCENTAGE_SPLIT', value: 50, description: null }] }],
        },
        { type: 'ALL' },
      ]);
      expect(parsed).toEqual({
        errors: [],
        rules: [
          {
            type: 'ANY',
            conditions: [{ property: 'plan', operator: 'IN', value: '["pro","2","true"]', description: 'Paying plans' }],
            rules: [{ type: 'NONE', conditions: [{ property: '', operator: 'PERCENTAGE_SPLIT', value: '50' }], rules: [] }],
          },
          { type: 'ALL', conditions: [], rules: [] },
        ],
      });
    });

    it('accepts a condition on a JSONPath property', () => {
      expect(errorsOf(oneCondition('EQUAL', 'web', '$.identity.identifier'))).toEqual([]);
    });

    it('accepts PERCENTAGE_SPLIT without a property', () => {
      expect(errorsOf(oneCondition('PERCENTAGE_SPLIT', '10', null))).toEqual([]);
    });

    it('accepts a regular expression in Python syntax that has a JavaScript equivalent', () => {
      expect(errorsOf(oneCondition('REGEX', '^(?P<year>\\d{4})-(?P=year)$'))).toEqual([]);
    });

    it.each(['(?i)abc', '(?P<name>x)', '(?s)a.b', '(?x) a b  # spaced', '\\Aabc\\Z'])('accepts a regular expression the engine evaluates in Python syntax: %s', (value) => {
      expect(errorsOf(oneCondition('REGEX', value))).toEqual([]);
    });

    it.each(['0', '100', '33.3'])('accepts a PERCENTAGE_SPLIT of %s', (value) => {
      expect(errorsOf(oneCondition('PERCENTAGE_SPLIT', value, null))).toEqual([]);
    });

    it('accepts a negative MODULO remainder and decimals', () => {
      expect(errorsOf(oneCondition('MODULO', '2.5|-1'))).toEqual([]);
    });

    it('accepts IN as a JSON array in a string', () => {
      expect(errorsOf(oneCondition('IN', '["pro","enterprise"]'))).toEqual([]);
    });

    it('stores an IN list given as an array as a JSON array of strings', () => {
      expect(storedValueOf(oneCondition('IN', ['pro', 3, false]))).toBe('["pro","3","false"]');
    });

    it('accepts an IN value that starts like JSON but is not, as a comma-separated list', () => {
      expect(errorsOf(oneCondition('IN', '[beta,pro'))).toEqual([]);
    });

    it('keeps a value given to IS_SET', () => {
      expect(storedValueOf(oneCondition('IS_SET', 'ignored'))).toBe('ignored');
    });

    it('accepts rules nested to the depth limit', () => {
      let rule: SegmentRuleInput = { type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] };
      for (let depth = 1; depth < MAX_RULE_DEPTH; depth++) rule = { type: 'ALL', rules: [rule] };
      expect(errorsOf([rule])).toEqual([]);
    });

    it('accepts as many conditions as the limit', () => {
      const conditions = Array.from({ length: MAX_CONDITIONS }, (_, index) => ({ property: `trait_${index}`, operator: 'IS_SET' }));
      expect(errorsOf([{ type: 'ALL', conditions }])).toEqual([]);
    });

    it('accepts values and properties at the length limit', () => {
      expect(errorsOf(oneCondition('EQUAL', 'v'.repeat(MAX_CONDITION_VALUE_LENGTH), 'p'.repeat(MAX_CONDITION_VALUE_LENGTH)))).toEqual([]);
    });
  });

  describe('when invalid', () => {
    it('names an unknown operator', () => {
      expect(errorsOf(oneCondition('STARTS_WITH', 'a'))).toEqual([{ field: 'rules[0].conditions[0].operator', message: `must be one of ${OPERATORS.join(', ')}` }]);
    });

    it('names an unknown rule type', () => {
      expect(errorsOf([{ type: 'SOME', conditions: [] }])).toEqual([{ field: 'rules[0].type', message: 'must be one of ALL, ANY, NONE' }]);
    });

    it.each([null, ''])('names a missing property (%p)', (property) => {
      expect(errorsOf(oneCondition('EQUAL', 'pro', property))).toEqual([{ field: 'rules[0].conditions[0].property', message: 'is required' }]);
    });

    it('names a property that is too long', () => {
      expect(errorsOf(oneCondition('EQUAL', 'pro', 'p'.repeat(MAX_CONDITION_VALUE_LENGTH + 1)))).toEqual([
        { field: 'rules[0].conditions[0].property', message: `must be at most ${MAX_CONDITION_VALUE_LENGTH} characters` },
      ]);
    });

    it('names a value that is too long', () => {
      expect(errorsOf(oneCondition('EQUAL', 'v'.repeat(MAX_CONDITION_VALUE_LENGTH + 1)))).toEqual([
        { field: VALUE, message: `must be at most ${MAX_CONDITION_VALUE_LENGTH} characters` },
      ]);
    });

    it.each([null, undefined, ''])('names a missing value (%p) for an operator that needs one', (value) => {
      expect(errorsOf(oneCondition('EQUAL', value))).toEqual([{ field: VALUE, message: 'is required for this operator' }]);
    });

    it('stores a missing value of an operator that needs one as empty', () => {
      expect(storedValueOf(oneCondition('CONTAINS', null))).toBe('');
    });

    it.each(['[', '(unclosed', '*start', '(?<name>a)(?<name>b)'])('names a REGEX that does not compile: %s', (value) => {
      expect(errorsOf(oneCondition('REGEX', value))).toEqual([{ field: VALUE, message: 'is not a valid regular expression' }]);
    });

    it.each(['2', '2|', '|1', 'a|b', '2|1|0', '2,1'])('names a MODULO value that is not divisor|remainder: %s', (value) => {
      expect(errorsOf(oneCondition('MODULO', value))).toEqual([{ field: VALUE, message: 'must be "divisor|remainder", two numbers' }]);
    });

    it('names a MODULO divisor of zero', () => {
      expect(errorsOf(oneCondition('MODULO', '0|1'))).toEqual([{ field: VALUE, message: 'divisor must not be zero' }]);
    });

    it.each(['101', '-1', 'half', '100.5', 'Infinity'])('names a PERCENTAGE_SPLIT outside 0..100 or not a number: %s', (value) => {
      expect(errorsOf(oneCondition('PERCENTAGE_SPLIT', value, null))).toEqual([{ field: VALUE, message: 'must be a number from 0 to 100' }]);
    });

    it.each([
      ['v1.2.3', 'a leading v'],
      ['1.2', 'a missing patch number'],
      ['=1.2.3', 'a leading ='],
      [' 1.2.3', 'a leading space'],
      ['01.2.3', 'a leading zero'],
      ['latest', 'no numbers'],
    ])('names a :semver value with %s (%s)', (version) => {
      expect(errorsOf(oneCondition('GREATER_THAN', `${version}:semver`))).toEqual([{ field: VALUE, message: `"${version}" is not a valid semantic version` }]);
    });

    it('checks :semver values whatever the operator', () => {
      expect(errorsOf(oneCondition('EQUAL', 'v2:semver'))).toEqual([{ field: VALUE, message: '"v2" is not a valid semantic version' }]);
    });

    it('names an IN JSON array holding objects', () => {
      expect(errorsOf(oneCondition('IN', '[{"plan":"pro"}]'))).toEqual([{ field: VALUE, message: 'must be a comma-separated list or a JSON array of values' }]);
    });

    it('names rules nested past the depth limit, at the rule too deep', () => {
      let rule: SegmentRuleInput = { type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] };
      for (let depth = 1; depth <= MAX_RULE_DEPTH; depth++) rule = { type: 'ALL', rules: [rule] };
      expect(errorsOf([rule])).toEqual([{ field: `rules[0]${'.rules[0]'.repeat(MAX_RULE_DEPTH)}`, message: `rules may nest at most ${MAX_RULE_DEPTH} levels` }]);
    });

    it('names too many conditions on the whole tree', () => {
      const conditions = Array.from({ length: MAX_CONDITIONS / 2 }, (_, index) => ({ property: `trait_${index}`, operator: 'IS_SET' }));
      expect(errorsOf([{ type: 'ALL', conditions, rules: [{ type: 'ANY', conditions: [...conditions, { property: 'one_more', operator: 'IS_SET' }] }] }])).toEqual([
        { field: 'rules', message: `a segment may hold at most ${MAX_CONDITIONS} conditions` },
      ]);
    });

    it('collects every problem at once, each named by its path', () => {
      const errors = errorsOf([
        {
          type: 'ALL',
          conditions: [
            { property: 'plan', operator: 'EQUAL', value: 'pro' },
            { property: '', operator: 'REGEX', value: '[' },
          ],
          rules: [
            {
              type: 'EVERY',
              conditions: [
                { property: 'n', operator: 'MODULO', value: '0|1' },
                { property: 'x', operator: 'LIKE', value: 'a' },
              ],
            },
          ],
        },
        { type: 'ANY', conditions: [{ operator: 'PERCENTAGE_SPLIT', value: 'all' }] },
      ]);
      expect(errors).toEqual([
        { field: 'rules[0].conditions[1].property', message: 'is required' },
        { field: 'rules[0].conditions[1].value', message: 'is not a valid regular expression' },
        { field: 'rules[0].rules[0].type', message: 'must be one of ALL, ANY, NONE' },
        { field: 'rules[0].rules[0].conditions[0].value', message: 'divisor must not be zero' },
        { field: 'rules[0].rules[0].conditions[1].operator', message: `must be one of ${OPERATORS.join(', ')}` },
        { field: 'rules[1].conditions[0].value', message: 'must be a number from 0 to 100' },
      ]);
    });

    it('names fields under the given path', () => {
      expect(parseSegmentRules([{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL' }] }], 'segment.rules').errors).toEqual([
        { field: 'segment.rules[0].conditions[0].value', message: 'is required for this operator' },
      ]);
    });
  });

  describe('condition value normalisation', () => {
    it('stringifies numbers and booleans', () => {
      expect([normaliseConditionValue('EQUAL', 42), normaliseConditionValue('EQUAL', true)]).toEqual(['42', 'true']);
    });

    it('keeps null for operators that ignore the value', () => {
      expect([normaliseConditionValue('IS_SET', null), normaliseConditionValue('IS_NOT_SET', undefined)]).toEqual([null, null]);
    });

    it('turns a missing value into an empty string for other operators', () => {
      expect(normaliseConditionValue('EQUAL', undefined)).toBe('');
    });

    it('turns a list into a JSON array of strings', () => {
      expect(normaliseConditionValue('IN', ['a', 1, false])).toBe('["a","1","false"]');
    });
  });
});
