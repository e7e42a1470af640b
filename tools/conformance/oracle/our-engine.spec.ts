import type { EvaluationContext } from '@flagline/evaluation-engine';
import { ourOneFlagOutcome, ourOutcome } from './our-engine';

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
