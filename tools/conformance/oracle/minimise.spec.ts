import { FloatNumber, type EvaluationContext } from '@flagline/evaluation-engine';
import type { OracleCase } from './context-generator';
import { minimise } from './minimise';
import { toPythonJson } from './python-json';

function bigCase(): OracleCase {
  const context: EvaluationContext = {
    environment: { key: 'k', name: 'n' },
    identity: { identifier: 'a', key: 'x', traits: { plan: 'pro', ratio: new FloatNumber(5), age: 3 } },
    segments: {
      '20': {
        key: '20',
        name: 'noise',
        rules: [{ type: 'ALL', conditions: [{ property: 'age', operator: 'EQUAL', value: '3' }] }],
        overrides: [{ key: '1', name: 'f', enabled: true, value: 1, priority: 0 }],
        metadata: { id: 20 },
      },
      '3': {
        key: '3',
        name: 'needle',
        rules: [
          { type: 'ANY', conditions: [{ property: 'plan', operator: 'IS_SET', value: null }], rules: [{ type: 'ALL', conditions: [{ property: 'ratio', operator: 'REGEX', value: '5' }] }] },
          { type: 'NONE', conditions: [{ property: 'plan', operator: 'IN', value: ['a', 'b'] }] },
        ],
        overrides: [{ key: '2', name: 'g', enabled: false, value: 'x', variants: [{ value: 'v', weight: 50, priority: 1 }] }],
      },
    },
    features: { f: { key: '10', name: 'f', enabled: true, value: 'a' }, g: { key: '11', name: 'g', enabled: true, value: 'b', metadata: { id: 11 } } },
  };
  return { context, order: { segments: ['20', '3'], features: ['f', 'g'] } };
}

const hasRegexOnRatio = (candidate: OracleCase): Promise<boolean> => {
  const text = toPythonJson(candidate.context);
  return Promise.resolve(text.includes('"operator":"REGEX"') && text.includes('"ratio":5.0'));
};

describe('minimise', () => {
  it('removes every part the failure does not need, keeping float traits and the maps\' order consistent', async () => {
    const small = await minimise(bigCase(), hasRegexOnRatio);
    expect(toPythonJson(small.context, small.order)).toBe(
      '{"environment":{"key":"k","name":"n"},"identity":{"identifier":"a","traits":{"ratio":5.0}},' +
        '"segments":{"3":{"key":"3","name":"needle","rules":[{"type":"ANY","rules":[{"type":"ALL","conditions":[{"property":"ratio","operator":"REGEX","value":"5"}]}]}]}},' +
        '"features":{}}',
    );
    expect(small.order).toEqual({ segments: ['3'], features: [] });
  });

  it('leaves the original case untouched and stops within its budget', async () => {
    const original = bigCase();
    const before = toPythonJson(original.context, original.order);
    let checks = 0;
    const small = await minimise(original, async (candidate) => {
      checks += 1;
      return hasRegexOnRatio(candidate);
    }, 3);
    expect(checks).toBe(3);
    expect(toPythonJson(original.context, original.order)).toBe(before);
    expect(toPythonJson(small.context).length).toBeLessThan(before.length);
  });

  it('returns the case as it is when nothing can go', async () => {
    const original = bigCase();
    const small = await minimise(original, (candidate) => Promise.resolve(toPythonJson(candidate.context) === toPythonJson(original.context)));
    expect(toPythonJson(small.context, small.order)).toBe(toPythonJson(original.context, original.order));
  });
});
