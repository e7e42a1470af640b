import { aCondition, aSingleConditionContext } from '../testing';
import { FloatNumber } from './float-number';
import { getEvaluationResult } from './get-evaluation-result';
import { hashedPercentageForIds } from './hashing';
import type { ConditionOperator, SegmentCondition, Traits, TraitValue } from './types/evaluation-context.types';

function isMember(condition: SegmentCondition, traits: Traits | null): boolean {
  return getEvaluationResult(aSingleConditionContext(condition, traits)).segments.length === 1;
}

type Row = readonly [TraitValue | null | undefined, ConditionOperator, string | string[] | null, boolean];

function describeRows(title: string, rows: readonly Row[]): void {
  describe(title, () => {
    it.each(rows)('given trait %p when %s %p then membership is %p', (trait, operator, value, expected) => {
      const traits: Traits = trait === undefined ? {} : { trait };

      expect(isMember(aCondition({ operator, value }), traits)).toBe(expected);
    });
  });
}

describe('condition operators', () => {
  describeRows('EQUAL / NOT_EQUAL cast the condition value to the context type', [
    ['abc', 'EQUAL', 'abc', true],
    ['abc', 'EQUAL', 'ABC', false],
    [7, 'EQUAL', ' 7', true],
    [7, 'EQUAL', '7.0', false],
    [7, 'NOT_EQUAL', '7.0', false],
    [7, 'NOT_EQUAL', 'abc', false],
    [7, 'NOT_EQUAL', '8', true],
    ['007', 'EQUAL', '7', true],
    ['1.0', 'EQUAL', '1', true],
    ['2.0', 'EQUAL', '2.0', true],
    [2, 'EQUAL', '2.0', false],
    [new FloatNumber(2), 'EQUAL', '2.0', true],
    [1.5, 'EQUAL', '1.5', true],
    [1.5, 'EQUAL', '3/2', false],
    ['true', 'EQUAL', 'true', true],
    [true, 'EQUAL', '1', true],
    [true, 'EQUAL', 'true', true],
    [false, 'EQUAL', '0', false],
    [false, 'EQUAL', 'false', true],
    [false, 'EQUAL', 'False', true],
    [true, 'EQUAL', 'FALSE', true],
    [false, 'NOT_EQUAL', 'true', true],
    [0, 'EQUAL', 'false', false],
    [1, 'EQUAL', 'true', false],
    ['12345678901234567890', 'EQUAL', '12345678901234567891', false],
    ['x', 'EQUAL', null, false],
    [true, 'EQUAL', null, true],
  ]);

  describeRows('orderings compare ints and floats numerically, strings by code point, bools as ints', [
    [2, 'LESS_THAN', '2.1', false],
    [new FloatNumber(2), 'LESS_THAN', '2.1', true],
    [2.5, 'GREATER_THAN', '1e0', true],
    [2.5, 'LESS_THAN', 'inf', true],
    [2.5, 'GREATER_THAN', 'nan', false],
    [10, 'GREATER_THAN_INCLUSIVE', '10', true],
    [10, 'LESS_THAN_INCLUSIVE', '9', false],
    ['9', 'GREATER_THAN', '10', false],
    ['abc9', 'GREATER_THAN', 'abc10', true],
    ['b', 'GREATER_THAN', 'a', true],
    ['\u{1F600}', 'GREATER_THAN', '\uffff', true],
    [true, 'GREATER_THAN', 'false', true],
    [false, 'LESS_THAN', 'yes', true],
  ]);

  describeRows('CONTAINS and NOT_CONTAINS need a string context', [
    ['hello world', 'CONTAINS', 'lo w', true],
    ['hello', 'CONTAINS', 'xyz', false],
    [123, 'CONTAINS', '2', false],
    ['123', 'CONTAINS', '2', false],
    ['hello', 'NOT_CONTAINS', 'xyz', true],
    ['hello', 'NOT_CONTAINS', 'ell', false],
    [5, 'NOT_CONTAINS', 'x', false],
    [undefined, 'NOT_CONTAINS', 'x', false],
    ['has None inside', 'NOT_CONTAINS', null, false],
  ]);

  describeRows('REGEX matches at the start of str(context), case-sensitively', [
    ['abc123', 'REGEX', '[a-z]+\\d', true],
    ['xabc', 'REGEX', 'abc', false],
    ['abcx', 'REGEX', 'abc', true],
    ['ABC', 'REGEX', 'abc', false],
    [true, 'REGEX', 'True', true],
    ['1.0', 'REGEX', '1\\.0$', true],
    [1, 'REGEX', '1\\.0', false],
    ['anything', 'REGEX', '[', false],
    ['user@example.com', 'REGEX', '(?P<user>\\w+)@example\\.com$', true],
    ['abc\n', 'REGEX', 'abc$', true],
    [undefined, 'REGEX', '.*', false],
    // Found by the reference-engine oracle (npm run conformance:oracle).
    ['', 'REGEX', '(?>a+)*', true],
    ['aab', 'REGEX', '(?>a+)*b', true],
    ['I', 'REGEX', '(?s).{2}', false],
    ['', 'REGEX', '\\B', false],
    ['ı', 'REGEX', '(?i)I', true],
    ['İ', 'REGEX', '(?i)[a-z]', true],
    ['İ', 'REGEX', '[a-z]', false],
  ]);

  describeRows('MODULO takes divisor|remainder on numbers, with Python float modulo', [
    [10, 'MODULO', '3|1', true],
    [-1, 'MODULO', '3|2', true],
    [5.5, 'MODULO', '2|1.5', true],
    [true, 'MODULO', '2|1', true],
    ['10', 'MODULO', '3|1', true],
    [10, 'MODULO', '3 | 1', true],
    ['abc', 'MODULO', '2|0', false],
    [10, 'MODULO', '10|', false],
    [10, 'MODULO', '', false],
    [10, 'MODULO', '3|1|1', false],
    [10, 'MODULO', '0|0', false],
    [10, 'MODULO', 'a|b', false],
  ]);

  describeRows('IN compares strings and int text with list elements', [
    ['b', 'IN', 'a,b,c', true],
    ['b', 'IN', 'a, b', false],
    [2, 'IN', '1,2,3', true],
    ['2', 'IN', '1,2', true],
    [true, 'IN', 'True', false],
    [1.5, 'IN', '1.5', false],
    ['a', 'IN', '["a","b"]', true],
    ['y', 'IN', ['x', 'y'], true],
    [2, 'IN', '[1, 2]', true],
    [1, 'IN', '[1.0]', false],
    ['True', 'IN', '[true]', true],
    ['b', 'IN', '[a,b', true],
    ['"q"', 'IN', '"q"', true],
    [undefined, 'IN', 'a,None', false],
    ['x', 'IN', null, false],
  ]);

  describeRows('IS_SET / IS_NOT_SET treat missing and null traits as unset', [
    [undefined, 'IS_NOT_SET', '', true],
    [null, 'IS_NOT_SET', '', true],
    ['', 'IS_SET', '', true],
    [false, 'IS_SET', '', true],
    [undefined, 'IS_SET', '', false],
  ]);

  describeRows('semantic versions via the :semver suffix', [
    ['1.2.3', 'GREATER_THAN', '1.2.0:semver', true],
    ['1.2.3', 'LESS_THAN', '1.10.0:semver', true],
    ['1.0.0-beta', 'LESS_THAN', '1.0.0:semver', true],
    ['1.2.3+b1', 'EQUAL', '1.2.3+b2:semver', true],
    ['v1.2.3', 'EQUAL', '1.2.3:semver', false],
    ['1.2', 'LESS_THAN', '1.3.0:semver', false],
    ['1.2.3', 'EQUAL', 'v1.2.3:semver', false],
    ['1.2.3-beta', 'CONTAINS', 'beta:semver', true],
    [true, 'EQUAL', '1.0.0:semver', true],
    [1, 'EQUAL', '1.0.0:semver', false],
  ]);

  describeRows('unknown operators never match', [['x', 'STARTS_WITH' as ConditionOperator, 'x', false]]);

  describe('PERCENTAGE_SPLIT', () => {
    const at = (ids: string[]): number => hashedPercentageForIds(ids);

    it('given a blank property when the identity key hashes at the threshold then it matches (inclusive)', () => {
      const threshold = at(['segment_key', 'user_key']);

      expect(isMember(aCondition({ property: '', operator: 'PERCENTAGE_SPLIT', value: String(threshold) }), {})).toBe(true);
      expect(isMember(aCondition({ property: '', operator: 'PERCENTAGE_SPLIT', value: String(threshold - 1e-9) }), {})).toBe(false);
    });

    it('given a trait property when it is set then its str() is hashed instead of the identity key', () => {
      const condition = (value: number): SegmentCondition => aCondition({ property: 'trait', operator: 'PERCENTAGE_SPLIT', value: String(value) });

      expect(isMember(condition(at(['segment_key', '7'])), { trait: '007' })).toBe(true);
      expect(isMember(condition(at(['segment_key', '7']) - 1e-9), { trait: '007' })).toBe(false);
      expect(isMember(condition(at(['segment_key', 'True'])), { trait: true })).toBe(true);
      expect(isMember(condition(at(['segment_key', 'True']) - 1e-9), { trait: true })).toBe(false);
    });

    it('given a trait property when the trait is missing then it never matches', () => {
      expect(isMember(aCondition({ property: 'company', operator: 'PERCENTAGE_SPLIT', value: '100' }), {})).toBe(false);
    });

    it('given a blank property when there is no identity then it never matches', () => {
      expect(isMember(aCondition({ property: '', operator: 'PERCENTAGE_SPLIT', value: '100' }), null)).toBe(false);
    });

    it('given a value that is not a number when evaluated then it never matches', () => {
      expect(isMember(aCondition({ property: '', operator: 'PERCENTAGE_SPLIT', value: 'half' }), {})).toBe(false);
    });
  });

  describe('context values reached by JSONPath', () => {
    const on = (property: string, operator: ConditionOperator, value: string, traits: Traits = {}): boolean =>
      isMember(aCondition({ property, operator, value }), traits);

    it('given identity paths when evaluated then identifier, key and traits are read directly', () => {
      expect(on('$.identity.identifier', 'EQUAL', 'user')).toBe(true);
      expect(on('$.identity.key', 'EQUAL', 'user_key')).toBe(true);
      expect(on('$.identity.traits.plan', 'EQUAL', 'gold', { plan: 'gold' })).toBe(true);
      expect(on("$.identity.traits['a b']", 'EQUAL', 'x', { 'a b': 'x' })).toBe(true);
    });

    it('given environment paths when evaluated then the environment context is read', () => {
      expect(on('$.environment.name', 'EQUAL', 'Environment')).toBe(true);
      expect(on('$.environment.key', 'EQUAL', 'env_key')).toBe(true);
    });

    it('given a trait literally named like the path when it is set then it wins, when null it does not', () => {
      expect(on('$.identity.identifier', 'EQUAL', 'literal', { '$.identity.identifier': 'literal' })).toBe(true);
      expect(on('$.identity.identifier', 'EQUAL', 'user', { '$.identity.identifier': null })).toBe(true);
    });

    it('given an invalid JSONPath when evaluated then only the literal trait is read', () => {
      expect(on('$.not valid', 'EQUAL', 'x', { '$.not valid': 'x' })).toBe(true);
      expect(on('$.not valid', 'IS_NOT_SET', '')).toBe(true);
    });

    it('given a path to an object or a missing node when evaluated then the value is None', () => {
      expect(on('$.identity', 'IS_NOT_SET', '')).toBe(true);
      expect(on('$.identity.traits', 'IS_NOT_SET', '', { a: 1 })).toBe(true);
      expect(on('$.identity.nothing', 'IS_NOT_SET', '')).toBe(true);
    });

    it('given a generic query when evaluated then the first node of the whole context is used', () => {
      expect(on("$.identity['identifier','key']", 'EQUAL', 'user')).toBe(true);
      expect(on('$.segments.only.name', 'EQUAL', 'only')).toBe(true);
      expect(on('$..identifier', 'EQUAL', 'user')).toBe(true);
    });

    it('given a numeric identifier when read by JSONPath then it is coerced like a trait', () => {
      const context = aSingleConditionContext(aCondition({ property: '$.identity.identifier', operator: 'GREATER_THAN', value: '100' }), {});
      const identity = { identifier: '123', key: 'k' };

      expect(getEvaluationResult({ ...context, identity }).segments).toHaveLength(1);
    });
  });
});
