import type { EvaluationContext } from '@flagline/evaluation-engine';
import { ourIdentityOverridesOutcome, ourOneFlagOutcome, ourOutcome } from './our-engine';

const context: EvaluationContext = {
  environment: { key: 'k', name: 'n' },
  identity: { identifier: 'a', traits: { plan: 'pro' } },
  segments: {
    '9': {
      key: '9',
      name: 'pro',
      rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }] }],
      overrides: [{ key: '3', name: 'b', enabled: false, value: 'o', priority: 1, metadata: { id: 3 } }],
    },
  },
  features: { b: { key: '2', name: 'b', enabled: true, value: 'x' }, a: { key: '1', name: 'a', enabled: true, value: 1 } },
};
const oracleCase = { context, order: { segments: ['9'], features: ['b', 'a'] } };

describe('our engine outcomes', () => {
  it('evaluates the whole context', () => {
    expect(ourOutcome(oracleCase)).toEqual({
      result: {
        flags: {
          b: { name: 'b', enabled: false, value: 'o', reason: 'TARGETING_MATCH; segment=pro', variant: null, metadata: { id: 3 } },
          a: { name: 'a', enabled: true, value: 1, reason: 'STATIC', variant: null },
        },
        segments: [{ name: 'pro' }],
      },
    });
  });

  it('puts the one-flag evaluations of every feature together like a whole result, with the whole result\'s segments', () => {
    const whole = ourOutcome(oracleCase);
    expect(ourOneFlagOutcome(oracleCase, whole)).toEqual(whole);
  });

  it('passes on an error of the whole evaluation', () => {
    expect(ourOneFlagOutcome(oracleCase, { error: 'TypeError: x' })).toEqual({ error: 'TypeError: x' });
  });
});

describe('the identity-override serving path', () => {
  const withOverrides = (identifier: string): EvaluationContext => ({
    ...context,
    identity: { identifier, traits: { plan: 'pro' } },
    segments: {
      ...context.segments,
      identity_override_1: {
        key: 'identity_override_1',
        name: 'identity_overrides',
        rules: [{ type: 'ALL', conditions: [{ property: '$.identity.identifier', operator: 'IN', value: `x,${identifier}` }] }],
        overrides: [{ key: '4', name: 'a', enabled: false, value: 'mine', priority: -Infinity }],
        metadata: { source: 'identity_override' },
      },
    },
  });

  it('compiles the identity-override segment apart and gives what the whole evaluation gives, the segment listed in place', () => {
    const oracleCase = { context: withOverrides('alice'), order: { segments: ['identity_override_1', '9'], features: ['b', 'a'] } };
    const whole = ourOutcome(oracleCase);
    expect(whole).toMatchObject({ result: { flags: { a: { value: 'mine', reason: 'TARGETING_MATCH; segment=identity_overrides' } } } });
    expect(ourIdentityOverridesOutcome(oracleCase, whole)).toEqual(whole);
  });

  it('is not taken where the segment does not match: "007" reads as the int 7, which IN compares as "7"', () => {
    const oracleCase = { context: withOverrides('007'), order: { segments: ['9', 'identity_override_1'], features: ['b', 'a'] } };
    expect(ourIdentityOverridesOutcome(oracleCase, ourOutcome(oracleCase))).toBeUndefined();
  });

  it('is not taken where a condition queries the whole context, which differs by the segment taken out', () => {
    const base = withOverrides('alice');
    const query = { key: 'q', name: 'q', rules: [{ type: 'ALL' as const, conditions: [{ property: '$..enabled', operator: 'IS_SET' as const, value: null }] }] };
    const oracleCase = { context: { ...base, segments: { ...base.segments, q: query } }, order: { segments: ['identity_override_1', '9', 'q'], features: ['b', 'a'] } };
    expect(ourIdentityOverridesOutcome(oracleCase, ourOutcome(oracleCase))).toBeUndefined();
  });

  it('is not taken without an identity-override segment', () => {
    const oracleCase = { context, order: { segments: ['9'], features: ['b', 'a'] } };
    expect(ourIdentityOverridesOutcome(oracleCase, ourOutcome(oracleCase))).toBeUndefined();
  });
});
