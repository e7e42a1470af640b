import { aCondition, aFeature, anEvaluationContext, aSegment } from '../testing';
import { compileEnvironment, withChangedDefaults } from './environment.compiler';
import { evaluate } from './evaluate';
import { toEvaluationResult } from './evaluation-result.mapper';
import type { EvaluationContext, FeatureContext } from './types/evaluation-context.types';

const plan = aCondition({ property: 'plan', operator: 'EQUAL', value: 'pro' });
const identities = ['ada', 'grace', 'linus'].map((identifier) => ({ identifier, key: `${identifier}_key`, traits: { plan: identifier === 'ada' ? 'pro' : 'free' } }));

function features(count: number): Record<string, FeatureContext> {
  const out: Record<string, FeatureContext> = {};
  for (let index = 0; index < count; index++) {
    const name = `f${index}`;
    out[name] = aFeature(name, index % 3 === 0 ? { variants: [{ value: 'a', weight: 50, priority: 1 }, { value: 'b', weight: 50, priority: 2 }] } : {});
  }
  return out;
}

/** Every identity's results from a compile, as plain data. */
function results(compiled: ReturnType<typeof compileEnvironment>) {
  return identities.map((identity) => toEvaluationResult(evaluate(compiled, identity)));
}

describe('compiling an environment again from its previous compile', () => {
  const overrideOfF1 = aFeature('f1', { value: 'pro value', priority: 0 });
  const before: EvaluationContext = anEvaluationContext({
    features: features(6),
    segments: { pro: aSegment('pro', [plan], { overrides: [overrideOfF1] }) },
  });
  const previous = compileEnvironment(before);

  it('keeps the compiled states, and so the outcomes, of feature contexts passed again as the same objects', () => {
    const toggled = { ...before.features, f4: { ...(before.features?.['f4'] as FeatureContext), enabled: false } };
    const after = { ...before, features: toggled };
    const next = compileEnvironment(after, undefined, previous);

    next.defaults.forEach((state, index) => {
      if (index === 4) expect(state).not.toBe(previous.defaults[index]);
      else expect(state).toBe(previous.defaults[index]);
    });
    expect(next.defaults[4]?.enabled).toBe(false);
    expect(next.segments[0]?.overrides[0]).toBe(previous.segments[0]?.overrides[0]);
    expect(results(next)).toEqual(results(compileEnvironment(after)));
  });

  it('compiles anew what moved: a feature at another position, a renamed segment, a new feature', () => {
    const { f0: _dropped, ...rest } = before.features ?? {};
    const after: EvaluationContext = {
      ...before,
      features: { ...rest, f6: aFeature('f6') },
      segments: { pro: aSegment('pro users', [plan], { overrides: [overrideOfF1] }) },
    };
    const next = compileEnvironment(after, undefined, previous);

    // Every feature moved up by one: nothing is reused, since each state belongs to its position.
    next.defaults.forEach((state) => expect(previous.defaults).not.toContain(state));
    expect(next.segments[0]?.overrides[0]?.reason).toBe('TARGETING_MATCH; segment=pro users');
    expect(results(next)).toEqual(results(compileEnvironment(after)));
  });

  it('gives the same results as a fresh compile after a new feature is appended', () => {
    const after: EvaluationContext = { ...before, features: { ...before.features, f6: aFeature('f6', { value: 'new' }) } };
    const next = compileEnvironment(after, undefined, previous);

    expect(next.defaults.slice(0, 6)).toEqual(previous.defaults);
    next.defaults.slice(0, 6).forEach((state, index) => expect(state).toBe(previous.defaults[index]));
    expect(results(next)).toEqual(results(compileEnvironment(after)));
  });
});

describe('patching the environment defaults of a compile', () => {
  const context: EvaluationContext = anEvaluationContext({
    features: features(4),
    segments: { pro: aSegment('pro', [plan], { overrides: [aFeature('f1', { value: 'pro value', priority: 0 })] }) },
  });
  const compiled = compileEnvironment(context);

  it('gives what a compile of the changed context gives', () => {
    const f2 = aFeature('f2', { enabled: false, value: 'changed' });
    const f1 = aFeature('f1', { value: 'new default' });
    const f4 = aFeature('f4', { value: 'appended' });
    const patched = withChangedDefaults(compiled, { replaced: [{ index: 2, context: f2 }, { index: 1, context: f1 }], appended: [f4] });
    const changed = { ...context, features: { ...context.features, f1, f2, f4 } };
    expect(patched?.segments).toBe(compiled.segments);
    expect(patched && results(patched)).toEqual(results(compileEnvironment(changed)));
    expect(patched?.defaults[1]?.reason).toBe('DEFAULT');
    expect(patched?.defaults[4]?.reason).toBe('STATIC');
  });

  it('declines what it cannot patch: renames, taken or targeted names, conditions reading the features', () => {
    expect(withChangedDefaults(compiled, { replaced: [{ index: 2, context: aFeature('other') }], appended: [] })).toBeUndefined();
    expect(withChangedDefaults(compiled, { replaced: [], appended: [aFeature('f3')] })).toBeUndefined();
    const targeting = compileEnvironment({ ...context, segments: { pro: aSegment('pro', [plan], { overrides: [aFeature('later')] }) } });
    expect(withChangedDefaults(targeting, { replaced: [], appended: [aFeature('later')] })).toBeUndefined();
    const readsFeatures = compileEnvironment({
      ...context,
      segments: { s: aSegment('s', [aCondition({ property: '$.features.f0.value', operator: 'EQUAL', value: 'f0_value' })], { overrides: [aFeature('f1')] }) },
    });
    expect(readsFeatures.defaultsPatchable).toBe(false);
    expect(withChangedDefaults(readsFeatures, { replaced: [{ index: 0, context: aFeature('f0', { value: 'x' }) }], appended: [] })).toBeUndefined();
  });

  it('keeps finding every feature by name over many appends, one at a time', () => {
    let patched: ReturnType<typeof compileEnvironment> | undefined = compiled;
    let grown: EvaluationContext = context;
    for (let index = 4; index < 150; index++) {
      const added = aFeature(`f${index}`);
      grown = { ...grown, features: { ...grown.features, [added.name]: added } };
      patched = patched && withChangedDefaults(patched, { replaced: [], appended: [added] });
    }
    const fresh = compileEnvironment(grown);
    expect(patched && [...patched.featureIndexByName]).toEqual([...fresh.featureIndexByName]);
    expect(patched?.featureIndexByName.get('f149')).toBe(149);
    expect(patched?.featureIndexByName.get('f0')).toBe(0);
    expect(patched?.featureIndexByName.has('f150')).toBe(false);
    expect(patched?.featureIndexByName.size).toBe(150);
    expect(patched && results(patched)).toEqual(results(fresh));
  });
});
