import { FloatNumber } from '@flagline/evaluation-engine';
import { compareOutcomes } from './compare';

const flag = (overrides: Record<string, unknown> = {}) => ({ name: 'f', enabled: true, value: 'v', reason: 'STATIC', variant: null, ...overrides });
const result = (flags: Record<string, unknown>, segments: unknown[] = []) => ({ result: { flags, segments } });

describe('compareOutcomes', () => {
  it('finds nothing between equal results, whatever the key order', () => {
    const ours = result({ f: flag() }, [{ name: 's', metadata: { id: 1 } }]);
    const reference = { result: { segments: [{ metadata: { id: 1 }, name: 's' }], flags: { f: { variant: null, reason: 'STATIC', value: 'v', enabled: true, name: 'f' } } } };
    expect(compareOutcomes(reference, ours)).toEqual({ differences: [], categories: [], bothFailed: false });
  });

  it('tells a float from an int: 5.0 from the reference is not our 5, but is our FloatNumber(5)', () => {
    const reference = result({ f: flag({ value: { $float: 5 } }) });
    expect(compareOutcomes(reference, result({ f: flag({ value: 5 }) })).categories).toEqual(['flag value']);
    expect(compareOutcomes(reference, result({ f: flag({ value: new FloatNumber(5) }) })).differences).toEqual([]);
  });

  it('tells a string from a number and null from an absent member', () => {
    expect(compareOutcomes(result({ f: flag({ value: '1' }) }), result({ f: flag({ value: 1 }) })).differences).toEqual(['flags.f.value: expected "1", got 1']);
    expect(compareOutcomes(result({ f: flag({ metadata: null }) }), result({ f: flag() })).categories).toEqual(['flag metadata']);
  });

  it('names reason differences by kind, without the segment or weight', () => {
    const comparison = compareOutcomes(result({ f: flag({ reason: 'STATIC' }) }), result({ f: flag({ reason: 'DEFAULT' }) }));
    expect(comparison.categories).toEqual(['reason STATIC vs DEFAULT']);
    expect(comparison.differences).toEqual(['flags.f.reason: expected "STATIC", got "DEFAULT"']);
    expect(
      compareOutcomes(result({ f: flag({ reason: 'TARGETING_MATCH; segment=a' }) }), result({ f: flag({ reason: 'TARGETING_MATCH; segment=b' }) })).categories,
    ).toEqual(['reason TARGETING_MATCH; segment=… (other segment or weight)']);
  });

  it('reports segment lists that differ in content or order, and flags present on one side only', () => {
    const comparison = compareOutcomes(result({ f: flag(), g: flag({ name: 'g' }) }, [{ name: 'a' }, { name: 'b' }]), result({ f: flag(), h: flag({ name: 'h' }) }, [{ name: 'b' }, { name: 'a' }]));
    expect(comparison.categories).toEqual(['flag missing from ours', 'flag only in ours', 'segments']);
  });

  it('qualifies every category when asked', () => {
    expect(compareOutcomes(result({ f: flag({ enabled: false }) }), result({ f: flag() }), ' [x]').categories).toEqual(['flag enabled [x]']);
  });

  it('reports an error on one side as a mismatch and on both sides as no comparison', () => {
    expect(compareOutcomes({ error: 'ZeroDivisionError: float modulo' }, result({})).categories).toEqual(['reference raised ZeroDivisionError']);
    expect(compareOutcomes(result({}), { error: 'TypeError: boom' }).differences).toEqual(['our engine threw TypeError: boom']);
    expect(compareOutcomes({ error: 'a' }, { error: 'b' })).toEqual({ differences: [], categories: [], bothFailed: true });
  });
});
