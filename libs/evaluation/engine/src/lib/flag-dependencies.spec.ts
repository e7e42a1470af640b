import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aCondition, aFeature, anEvaluationContext, aSegment } from '../testing';
import { compileEnvironment } from './environment.compiler';
import { evaluate, evaluateFeatures } from './evaluate';
import { toEvaluationResult } from './evaluation-result.mapper';
import { CIRCULAR_DEPENDENCY_REASON } from './flag-dependencies';
import { getEvaluationResult } from './get-evaluation-result';
import { readGoldenCase } from './golden-case.reader';
import { compileIdentityOverrides } from './identity-overrides.compiler';
import type { EvaluationContext, FeatureContext, SegmentContext } from './types/evaluation-context.types';

const reads = (feature: string, field = 'enabled', value = 'true') => aCondition({ property: `$.flags.${feature}.${field}`, value });
const plan = (value: string) => aCondition({ property: 'plan', value });
const override = (name: string, priority: number, extra: Partial<FeatureContext> = {}): FeatureContext =>
  aFeature(name, { key: `${name}_override`, value: `${name}_overridden`, priority, ...extra });

/** a ← b ← c: c's override needs b, b's needs a, a's needs the `pro` plan. */
function chainContext(): EvaluationContext {
  return anEvaluationContext({
    features: { a: aFeature('a', { enabled: false }), b: aFeature('b', { enabled: false }), c: aFeature('c', { enabled: false }), other: aFeature('other') },
    segments: {
      c_when_b: aSegment('c_when_b', [reads('b')], { overrides: [override('c', 1, { enabled: true })] }),
      b_when_a: aSegment('b_when_a', [reads('a')], { overrides: [override('b', 1, { enabled: true })] }),
      pro: aSegment('pro', [plan('pro')], { overrides: [override('a', 1, { enabled: true })] }),
      unrelated: aSegment('unrelated', [aCondition({ property: 'unrelated_trait', operator: 'IS_SET' })], { overrides: [override('other', 1)] }),
    },
  });
}

describe('flag dependencies', () => {
  describe('reads', () => {
    it('given a condition on another flag when that flag is enabled or has the value then the segment matches', () => {
      const result = getEvaluationResult(
        anEvaluationContext({
          identity: { identifier: 'user' },
          features: { gate: aFeature('gate', { value: 'green' }), a: aFeature('a'), b: aFeature('b') },
          segments: {
            enabled: aSegment('enabled', [reads('gate')], { overrides: [override('a', 1)] }),
            value: aSegment('value', [reads('gate', 'value', 'green')], { overrides: [override('b', 1)] }),
          },
        }),
      );

      expect(result.flags['a']?.reason).toBe('TARGETING_MATCH; segment=enabled');
      expect(result.flags['b']?.reason).toBe('TARGETING_MATCH; segment=value');
    });

    it('given the context comes with its own flags when evaluated then they are ignored, as the reference replaces them', () => {
      const context = {
        ...anEvaluationContext({
          features: { gate: aFeature('gate', { enabled: true }), a: aFeature('a') },
          segments: { s: aSegment('s', [reads('gate')], { overrides: [override('a', 1)] }) },
        }),
        flags: { gate: { name: 'gate', enabled: false } },
      };

      expect(getEvaluationResult(context).flags['a']?.value).toBe('a_overridden');
    });
  });

  describe('compiled once, evaluated for many identities', () => {
    it('given a chain when identities differ then each evaluation resolves afresh', () => {
      const compiled = compileEnvironment(chainContext());

      const pro = toEvaluationResult(evaluate(compiled, { identifier: 'p', traits: { plan: 'pro' } }));
      const free = toEvaluationResult(evaluate(compiled, { identifier: 'f', traits: { plan: 'free' } }));

      expect([pro.flags['a']?.enabled, pro.flags['b']?.enabled, pro.flags['c']?.enabled]).toEqual([true, true, true]);
      expect([free.flags['a']?.reason, free.flags['b']?.reason, free.flags['c']?.reason]).toEqual(['DEFAULT', 'DEFAULT', 'DEFAULT']);
    });

    it('given a cycle when evaluated twice then the cycle outcomes are the same objects', () => {
      const compiled = compileEnvironment(
        anEvaluationContext({
          features: { a: aFeature('a'), b: aFeature('b') },
          segments: {
            a_when_b: aSegment('a_when_b', [reads('b')], { overrides: [override('a', 1)] }),
            b_when_a: aSegment('b_when_a', [reads('a')], { overrides: [override('b', 1)] }),
          },
        }),
      );

      const first = evaluate(compiled, null).flags;
      const second = evaluate(compiled, null).flags;

      expect(first.map((outcome) => outcome.reason)).toEqual([CIRCULAR_DEPENDENCY_REASON, CIRCULAR_DEPENDENCY_REASON]);
      expect(second[0]).toBe(first[0]);
      expect(second[1]).toBe(first[1]);
    });
  });

  describe('cost', () => {
    it('given conditions on traits and context paths only when compiled then no dependency machinery is used', () => {
      const compiled = compileEnvironment(
        anEvaluationContext({
          segments: { s: aSegment('s', [plan('pro'), aCondition({ property: '$.environment.name' }), aCondition({ property: '$.identity.traits.x' })]) },
        }),
      );

      expect(compiled.hasFlagDependencies).toBe(false);
      expect(compiled.segments[0]?.readsFlags).toBe(false);
    });

    it('given a $.flags condition when compiled then only the segments reading flags are evaluated in the reference order', () => {
      const compiled = compileEnvironment(chainContext());

      expect(compiled.hasFlagDependencies).toBe(true);
      expect(compiled.segments.map((segment) => segment.readsFlags)).toEqual([true, true, false, false]);
    });
  });

  describe('evaluating some features only', () => {
    it('given a chain when the last feature is evaluated alone then its dependencies are resolved and unrelated segments are not matched', () => {
      const compiled = compileEnvironment(chainContext());
      let unrelatedReads = 0;
      const traits = {
        plan: 'pro',
        get unrelated_trait(): string {
          unrelatedReads += 1;
          return 'x';
        },
      };

      const [c, missing] = evaluateFeatures(compiled, { identifier: 'user', traits }, ['c', 'nowhere']);

      expect(c?.reason).toBe('TARGETING_MATCH; segment=c_when_b');
      expect(c?.enabled).toBe(true);
      expect(missing).toBeUndefined();
      expect(unrelatedReads).toBe(0);
    });

    it('given an environment without dependencies when one feature is evaluated then it is the whole evaluation’s outcome object', () => {
      const compiled = compileEnvironment(
        anEvaluationContext({
          features: { a: aFeature('a'), b: aFeature('b') },
          segments: { s: aSegment('s', [plan('pro')], { overrides: [override('b', 1)] }) },
        }),
      );
      const identity = { identifier: 'user', traits: { plan: 'pro' } };

      const [b] = evaluateFeatures(compiled, identity, ['b']);

      expect(b).toBe(evaluate(compiled, identity).flags[1]);
    });
  });

  describe('evaluating some features only, on random dependency graphs', () => {
    /** A seeded context: 6 features, up to 6 segments whose rules read flags (cycles included), traits and splits. */
    function randomContext(seed: number): EvaluationContext {
      let state = seed;
      const next = (): number => {
        state = (state * 1103515245 + 12345) % 2147483648;
        return state / 2147483648;
      };
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
      const names = ['a', 'b', 'c', 'd', 'e', 'f.g'];
      const condition = () =>
        next() < 0.7
          ? aCondition({ property: `$.flags['${pick(names)}'].${pick(['enabled', 'value', 'reason'])}`, operator: pick(['EQUAL', 'IS_SET', 'NOT_EQUAL']), value: pick(['true', 'false', 'x', 'STATIC']) })
          : pick([plan('pro'), aCondition({ property: '', operator: 'PERCENTAGE_SPLIT', value: '50' })]);
      const segments: Record<string, SegmentContext> = {};
      for (let index = 0; index < 1 + Math.floor(next() * 6); index += 1) {
        const overrides = [override(pick(names), pick([0, 1, 1]), { enabled: next() < 0.5, value: pick(['x', 'y']) })];
        segments[`s${index}`] = { key: `s${index}`, name: `s${index}`, rules: [{ type: pick(['ALL', 'ANY', 'NONE'] as const), conditions: [condition(), condition()], rules: [{ type: 'ALL', conditions: [condition()] }] }], overrides };
      }
      const features = Object.fromEntries(names.map((name) => [name, aFeature(name, { enabled: next() < 0.5, value: pick(['x', 'y', '1']) })]));
      return anEvaluationContext({ features, segments });
    }

    it('given 300 seeded contexts when each feature is evaluated alone then it gets the whole evaluation’s outcome', () => {
      let cycles = 0;
      for (let seed = 1; seed <= 300; seed += 1) {
        const compiled = compileEnvironment(randomContext(seed));
        const identity = { identifier: `user_${seed}`, traits: { plan: seed % 2 === 0 ? 'pro' : 'free' } };
        const whole = evaluate(compiled, identity).flags;
        if (whole.some((outcome) => outcome.reason === CIRCULAR_DEPENDENCY_REASON)) cycles += 1;

        const alone = compiled.features.map((feature) => evaluateFeatures(compiled, identity, [feature.name])[0]);

        expect(alone).toEqual(whole);
      }
      expect(cycles).toBeGreaterThan(30);
    });
  });

  describe('identity overrides compiled for the identity (remote evaluation)', () => {
    /** The reference case's context with its synthetic identity segments taken out; this identity's (`identity_override_1`) compiled as its overrides. */
    function withoutSyntheticSegments(file: string) {
      const golden = readGoldenCase(readFileSync(join(__dirname, 'reference-cases', file), 'utf8'));
      const segments: Record<string, SegmentContext> = {};
      const identityOverrides: FeatureContext[] = [];
      for (const [key, segment] of Object.entries(golden.context.segments ?? {})) {
        if (segment.name !== 'identity_overrides') segments[key] = segment;
        else if (key === 'identity_override_1') identityOverrides.push(...(segment.overrides ?? []));
      }
      const { identity, ...environment } = { ...golden.context, segments };
      const compiled = compileEnvironment(environment, golden.order);
      const overrides = compileIdentityOverrides(compiled, identityOverrides);
      return { golden, result: toEvaluationResult(evaluate(compiled, identity ?? null, overrides)) };
    }

    it('given a flag depending on an identity-overridden flag when evaluated then it sees the override, as the reference does', () => {
      const { golden, result } = withoutSyntheticSegments('identity_override_segments.jsonc');

      expect(result.flags['a']).toStrictEqual(golden.result.flags['a']);
      expect(result.flags['b']).toStrictEqual(golden.result.flags['b']);
      // Only this identity's overrides are in its context: another identity's override of `c`
      // does not make `c` targeted here, so its default is STATIC rather than the reference's DEFAULT.
      expect(result.flags['c']).toStrictEqual({ ...golden.result.flags['c'], reason: 'STATIC' });
    });

    it('given an identity-overridden flag in a cycle when evaluated then it reports the cycle with the override value, as the reference does', () => {
      const { golden, result } = withoutSyntheticSegments('identity_override_in_cycle.jsonc');

      expect(result.flags).toStrictEqual(golden.result.flags);
      expect(result.flags['a']?.value).toBe('mine');
    });
  });
});
