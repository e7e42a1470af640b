import { aCondition, aFeature, anEvaluationContext, aSegment } from '../testing';
import { compileEnvironment } from './environment.compiler';
import { evaluate } from './evaluate';
import { toEvaluationResult } from './evaluation-result.mapper';
import { getEvaluationResult } from './get-evaluation-result';
import { hashedPercentageForIds } from './hashing';
import { compileIdentityOverrides } from './identity-overrides.compiler';
import type { EvaluationContext, FeatureContext, FeatureValue } from './types/evaluation-context.types';

const everyone = aCondition({ property: '$.environment.name', operator: 'EQUAL', value: 'Environment' });
const nobody = aCondition({ property: '$.environment.name', operator: 'EQUAL', value: 'Elsewhere' });
const identity = { identifier: 'user', key: 'user_key' };

function override(name: string, value: string, priority?: number, extra: Partial<FeatureContext> = {}): FeatureContext {
  return aFeature(name, { value, ...(priority === undefined ? {} : { priority }), ...extra });
}

describe('evaluation', () => {
  describe('precedence', () => {
    const context = (segments: EvaluationContext['segments']): EvaluationContext =>
      anEvaluationContext({ identity, features: { flag: aFeature('flag', { value: 'default' }) }, segments });

    it('given no matching override when evaluated then the default wins with reason DEFAULT', () => {
      const result = getEvaluationResult(context({ s: aSegment('s', [nobody], { overrides: [override('flag', 'from_s', 1)] }) }));

      expect(result.flags['flag']).toEqual({ name: 'flag', enabled: true, value: 'default', reason: 'DEFAULT', variant: null });
      expect(result.segments).toEqual([]);
    });

    it('given two matching segments when the later has a lower priority number then the later wins', () => {
      const result = getEvaluationResult(
        context({
          a: aSegment('a', [everyone], { overrides: [override('flag', 'from_a', 2)] }),
          b: aSegment('b', [everyone], { overrides: [override('flag', 'from_b', 1)] }),
        }),
      );

      expect(result.flags['flag']?.value).toBe('from_b');
      expect(result.flags['flag']?.reason).toBe('TARGETING_MATCH; segment=b');
      expect(result.segments).toEqual([{ name: 'a' }, { name: 'b' }]);
    });

    it('given equal priorities when evaluated then the first segment in order keeps the feature', () => {
      const result = getEvaluationResult(
        context({
          a: aSegment('a', [everyone], { overrides: [override('flag', 'from_a', 1)] }),
          b: aSegment('b', [everyone], { overrides: [override('flag', 'from_b', 1)] }),
        }),
      );

      expect(result.flags['flag']?.value).toBe('from_a');
    });

    it('given a missing priority when evaluated then it is the weakest', () => {
      const result = getEvaluationResult(
        context({
          a: aSegment('a', [everyone], { overrides: [override('flag', 'from_a')] }),
          b: aSegment('b', [everyone], { overrides: [override('flag', 'from_b', 1000)] }),
        }),
      );

      expect(result.flags['flag']?.value).toBe('from_b');
    });

    it('given identity overrides when evaluated then they beat every segment override but are not listed as a segment', () => {
      const environment = compileEnvironment(
        context({ a: aSegment('a', [everyone], { overrides: [override('flag', 'from_a', -1000)] }) }),
      );
      const overrides = compileIdentityOverrides(environment, [override('flag', 'mine'), override('flag', 'second')]);

      const result = toEvaluationResult(evaluate(environment, identity, overrides));

      expect(result.flags['flag']).toEqual({
        name: 'flag',
        enabled: true,
        value: 'mine',
        reason: 'TARGETING_MATCH; segment=identity_overrides',
        variant: null,
      });
      expect(result.segments).toEqual([{ name: 'a' }]);
    });

    it('given identity overrides when there is no identity then they are ignored', () => {
      const environment = compileEnvironment(context({}));
      const overrides = compileIdentityOverrides(environment, [override('flag', 'mine')]);

      expect(evaluate(environment, null, overrides).flags[0]?.value).toBe('default');
    });

    it('given identity overrides compiled against another compile when evaluated then they still apply by name', () => {
      const overrides = compileIdentityOverrides(compileEnvironment(context({})), [override('flag', 'mine')]);

      expect(evaluate(compileEnvironment(context({})), identity, overrides).flags[0]?.value).toBe('mine');
    });

    it('given an override for a feature the environment lacks when evaluated then it is ignored', () => {
      const result = getEvaluationResult(context({ a: aSegment('a', [everyone], { overrides: [override('ghost', 'x', 1)] }) }));

      expect(Object.keys(result.flags)).toEqual(['flag']);
    });
  });

  describe('multivariate', () => {
    const variants: FeatureValue[] = [
      { key: 'low_priority', value: 'second', weight: 50, priority: 20 },
      { key: 'high_priority', value: 'first', weight: 50, priority: 10 },
    ];
    const mvContext = (identityKey: string, featureVariants: FeatureValue[] = variants): EvaluationContext =>
      anEvaluationContext({
        identity: { identifier: 'someone', key: identityKey },
        features: { mv: aFeature('mv', { key: 'mv_key', value: 'control_value', variants: featureVariants }) },
      });
    const findKey = (predicate: (percentage: number) => boolean): string => {
      for (let index = 0; ; index += 1) if (predicate(hashedPercentageForIds(['mv_key', `id-${index}`]))) return `id-${index}`;
    };

    it('given an identity in the first 50% when evaluated then the variant with the lower priority number takes it', () => {
      const result = getEvaluationResult(mvContext(findKey((p) => p < 50)));

      expect(result.flags['mv']).toMatchObject({ value: 'first', reason: 'SPLIT; weight=50', variant: 'high_priority' });
    });

    it('given an identity in the last 50% when evaluated then the next variant takes it', () => {
      const result = getEvaluationResult(mvContext(findKey((p) => p >= 50)));

      expect(result.flags['mv']).toMatchObject({ value: 'second', reason: 'SPLIT; weight=50', variant: 'low_priority' });
    });

    it('given weights that leave a remainder when the identity falls in it then the control value is served', () => {
      const partial: FeatureValue[] = [{ key: 'small', value: 'v', weight: 10, priority: 1 }];

      const result = getEvaluationResult(mvContext(findKey((p) => p >= 10), partial));

      // No segment overrides `mv`, so its default is STATIC (engine 11.1.1).
      expect(result.flags['mv']).toMatchObject({ value: 'control_value', reason: 'STATIC', variant: 'control' });
    });

    it('given an unkeyed variant when it is selected then the result variant is null', () => {
      const unkeyed: FeatureValue[] = [{ value: 'v', weight: 100, priority: 1 }];

      expect(getEvaluationResult(mvContext('anyone', unkeyed)).flags['mv']).toMatchObject({ value: 'v', variant: null });
    });

    it('given no identity when evaluated then variants are not evaluated and variant is null', () => {
      const context = { ...mvContext('x'), identity: null };

      expect(getEvaluationResult(context).flags['mv']).toMatchObject({ value: 'control_value', reason: 'STATIC', variant: null });
    });

    it('given a segment override with its own variants when it wins then bucketing uses its key and variants', () => {
      const context = anEvaluationContext({
        identity,
        features: { mv: aFeature('mv', { variants }) },
        segments: {
          s: aSegment('s', [everyone], {
            overrides: [override('mv', 'seg_control', 0, { key: 'seg_key', variants: [{ key: 'all', value: 'seg_v', weight: 100, priority: 1 }] })],
          }),
        },
      });

      expect(getEvaluationResult(context).flags['mv']).toMatchObject({ value: 'seg_v', reason: 'SPLIT; weight=100', variant: 'all' });
    });
  });

  describe('identity key', () => {
    it('given an identity without a key when split on $.identity.key then the composite key is used', () => {
      const context = anEvaluationContext({
        identity: { identifier: 'alice' },
        segments: { s: aSegment('s', [aCondition({ property: '$.identity.key', operator: 'EQUAL', value: 'env_key_alice' })]) },
      });

      expect(getEvaluationResult(context).segments).toEqual([{ name: 's' }]);
    });

    it('given an empty key when multivariate is evaluated then the composite key is hashed', () => {
      const withEmptyKey = anEvaluationContext({
        identity: { identifier: 'alice', key: '' },
        features: { mv: aFeature('mv', { variants: [{ key: 'a', value: 'a', weight: 50, priority: 1 }] }) },
      });
      const withCompositeKey = { ...withEmptyKey, identity: { identifier: 'alice', key: 'env_key_alice' } };

      expect(getEvaluationResult(withEmptyKey)).toEqual(getEvaluationResult(withCompositeKey));
    });
  });

  describe('segments without identity', () => {
    it('given an environment rule when evaluated without identity then the segment still matches', () => {
      const context = anEvaluationContext({
        features: { flag: aFeature('flag') },
        segments: { s: aSegment('s', [everyone], { overrides: [override('flag', 'env-wide', 1)] }) },
      });

      expect(getEvaluationResult(context).flags['flag']).toMatchObject({ value: 'env-wide', reason: 'TARGETING_MATCH; segment=s' });
    });

    it('given a segment without rules when evaluated then it matches nobody', () => {
      const context = anEvaluationContext({ identity, segments: { s: { key: '1', name: 's', rules: [] } } });

      expect(getEvaluationResult(context).segments).toEqual([]);
    });
  });

  describe('rule types', () => {
    const rule = (type: 'ALL' | 'ANY' | 'NONE', conditions = [everyone, nobody]): EvaluationContext =>
      anEvaluationContext({ identity, segments: { s: { key: '1', name: 's', rules: [{ type, conditions }] } } });
    const matches = (context: EvaluationContext): boolean => getEvaluationResult(context).segments.length === 1;

    it('given one true and one false condition when combined then ALL fails, ANY passes, NONE fails', () => {
      expect(matches(rule('ALL'))).toBe(false);
      expect(matches(rule('ANY'))).toBe(true);
      expect(matches(rule('NONE'))).toBe(false);
    });

    it('given only false conditions when combined with NONE then the rule passes', () => {
      expect(matches(rule('NONE', [nobody]))).toBe(true);
    });

    it('given ANY with conditions and sub-rules when only the conditions pass then the rule fails', () => {
      const context = anEvaluationContext({
        identity,
        segments: { s: { key: '1', name: 's', rules: [{ type: 'ANY', conditions: [everyone], rules: [{ type: 'ALL', conditions: [nobody] }] }] } },
      });

      expect(matches(context)).toBe(false);
    });

    it('given an unknown rule type when it has conditions then the rule never matches (the reference raises)', () => {
      const rules = [{ type: 'SOME' as 'ALL', conditions: [everyone] }];
      const context = anEvaluationContext({ identity, segments: { s: { key: '1', name: 's', rules } } });

      expect(matches(context)).toBe(false);
    });

    it('given an unknown rule type without conditions or sub-rules when evaluated then it matches, as in the reference', () => {
      // flagsmith-flag-engine 11.1.1 matched {"type": "WHATEVER", "conditions": []}: it reads the type only to combine conditions.
      const context = anEvaluationContext({ identity, segments: { s: { key: '1', name: 's', rules: [{ type: 'SOME' as 'ALL', conditions: [] }] } } });

      expect(matches(context)).toBe(true);
    });
  });

  describe('metadata', () => {
    it('given metadata on the winning override and on the segment when evaluated then both are reported, empty ones omitted', () => {
      const context = anEvaluationContext({
        identity,
        features: { flag: aFeature('flag', { metadata: { id: 1 } }), other: aFeature('other', { metadata: {} }) },
        segments: { s: aSegment('s', [everyone], { metadata: { source: 'api' }, overrides: [override('flag', 'x', 1, { metadata: { id: 2 } })] }) },
      });

      const result = getEvaluationResult(context);

      expect(result.flags['flag']?.metadata).toEqual({ id: 2 });
      expect(result.flags['other']).not.toHaveProperty('metadata');
      expect(result.segments).toEqual([{ name: 's', metadata: { source: 'api' } }]);
    });
  });

  describe('outcomes', () => {
    it('given the same compiled environment when evaluated twice then the same outcome objects are returned', () => {
      const environment = compileEnvironment(anEvaluationContext({ features: { flag: aFeature('flag') } }));

      const first = evaluate(environment, identity);
      const second = evaluate(environment, { identifier: 'other' });

      expect(first.flags[0]).toBe(second.flags[0]);
      expect(first.flags[0]?.feature).toEqual({ name: 'flag', index: 0 });
    });
  });

  describe('document order', () => {
    it('given integer-like segment keys when the written order is passed then it decides ties and result order', () => {
      const context = anEvaluationContext({
        identity,
        features: { flag: aFeature('flag') },
        segments: {
          '381942': aSegment('late_id', [everyone], { key: '381942', overrides: [override('flag', 'from_381942', 1)] }),
          '4267': aSegment('early_id', [everyone], { key: '4267', overrides: [override('flag', 'from_4267', 1)] }),
        },
      });

      const result = getEvaluationResult(context, { segments: ['381942', '4267'] });

      expect(result.segments).toEqual([{ name: 'late_id' }, { name: 'early_id' }]);
      expect(result.flags['flag']?.value).toBe('from_381942');
    });
  });

  describe('malformed input', () => {
    it('given garbage where structures are expected when evaluated then nothing throws', () => {
      const garbage = {
        environment: null,
        identity: { identifier: 5, traits: [1, 2] },
        features: { a: null, b: { name: 'b', variants: 'x' } },
        segments: { s: { rules: [null, { type: 'ALL', conditions: [null, { operator: 'EQUAL', property: 5 }] }] }, t: 7 },
      } as unknown as EvaluationContext;

      expect(() => getEvaluationResult(garbage)).not.toThrow();
    });
  });
});
