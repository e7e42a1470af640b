import { aCondition, anEvaluationContext, aSegment } from '../testing';
import { compileEnvironment } from './environment.compiler';
import { evaluate } from './evaluate';
import { hashedPercentageForPair } from './hashing';
import type * as Hashing from './hashing';

jest.mock('./hashing', () => {
  const actual = jest.requireActual<typeof Hashing>('./hashing');
  return { ...actual, hashedPercentageForPair: jest.fn(actual.hashedPercentageForPair) };
});

describe('evaluation scope', () => {
  beforeEach(() => jest.mocked(hashedPercentageForPair).mockClear());

  it('given split conditions hashing the same pair when evaluated then the hash is computed once', () => {
    const split = aCondition({ property: '', operator: 'PERCENTAGE_SPLIT', value: '100' });
    const byTrait = aCondition({ property: 'company', operator: 'PERCENTAGE_SPLIT', value: '100' });
    const environment = compileEnvironment(
      anEvaluationContext({ segments: { s: aSegment('s', [split, byTrait, split, byTrait, split]) } }),
    );

    const evaluation = evaluate(environment, { identifier: 'user', traits: { company: 'acme' } });

    expect(evaluation.segments).toHaveLength(1);
    expect(hashedPercentageForPair).toHaveBeenCalledTimes(2);
  });

  it('given a property used by many conditions when evaluated then the trait is read once', () => {
    const condition = aCondition({ property: 'plan', operator: 'IS_SET' });
    const environment = compileEnvironment(
      anEvaluationContext({ segments: { a: aSegment('a', [condition]), b: aSegment('b', [condition, condition]) } }),
    );
    let reads = 0;
    const traits = {
      get plan(): string {
        reads += 1;
        return 'gold';
      },
    };

    expect(evaluate(environment, { identifier: 'user', traits }).segments).toHaveLength(2);
    expect(reads).toBe(1);
  });
});
