import { FloatNumber, type SegmentCondition, type SegmentRule } from '@flagline/evaluation-engine';
import { generateContext, type OracleCase } from './context-generator';
import { toPythonJson } from './python-json';
import { Random } from './random';

function conditionsOf(rules: readonly SegmentRule[]): SegmentCondition[] {
  return rules.flatMap((rule) => [...(rule.conditions ?? []), ...conditionsOf(rule.rules ?? [])]);
}

function rulesOf(rules: readonly SegmentRule[]): SegmentRule[] {
  return rules.flatMap((rule) => [rule, ...rulesOf(rule.rules ?? [])]);
}

const cases: OracleCase[] = Array.from({ length: 1500 }, (_, index) => generateContext(new Random(index)));
const segments = cases.flatMap((oracleCase) => Object.values(oracleCase.context.segments ?? {}));
const conditions = segments.flatMap((segment) => conditionsOf(segment.rules));
const features = cases.flatMap((oracleCase) => [
  ...Object.values(oracleCase.context.features ?? {}),
  ...Object.values(oracleCase.context.segments ?? {}).flatMap((segment) => segment.overrides ?? []),
]);
const traitValues = cases.flatMap((oracleCase) => Object.values(oracleCase.context.identity?.traits ?? {}));

describe('generateContext', () => {
  it('is reproducible from the seed', () => {
    const text = (seed: number) => {
      const { context, order } = generateContext(new Random(seed));
      return toPythonJson(context, order);
    };
    expect(text(42)).toBe(text(42));
    expect(text(42)).not.toBe(text(43));
  });

  it('uses every operator, every rule type, and sub-rules beside conditions', () => {
    const operators = new Set(conditions.map((condition) => condition.operator));
    expect([...operators].sort()).toEqual(
      [
        'CONTAINS',
        'EQUAL',
        'GREATER_THAN',
        'GREATER_THAN_INCLUSIVE',
        'IN',
        'IS_NOT_SET',
        'IS_SET',
        'LESS_THAN',
        'LESS_THAN_INCLUSIVE',
        'MODULO',
        'NOT_CONTAINS',
        'NOT_EQUAL',
        'PERCENTAGE_SPLIT',
        'REGEX',
      ].sort(),
    );
    const rules = segments.flatMap((segment) => rulesOf(segment.rules));
    expect(new Set(rules.map((rule) => rule.type))).toEqual(new Set(['ALL', 'ANY', 'NONE']));
    expect(rules.some((rule) => (rule.conditions?.length ?? 0) > 0 && (rule.rules?.length ?? 0) > 0)).toBe(true);
  });

  it('writes IN values as lists, comma strings and JSON-array strings, and semver and Python-only regex values', () => {
    const inValues = conditions.filter((condition) => condition.operator === 'IN').map((condition) => condition.value);
    expect(inValues.some(Array.isArray)).toBe(true);
    expect(inValues.some((value) => typeof value === 'string' && value.startsWith('['))).toBe(true);
    expect(inValues.some((value) => typeof value === 'string' && value.includes(',') && !value.startsWith('['))).toBe(true);
    expect(conditions.some((condition) => typeof condition.value === 'string' && condition.value.endsWith(':semver'))).toBe(true);
    const patterns = conditions.filter((condition) => condition.operator === 'REGEX').map((condition) => String(condition.value));
    expect(patterns.some((pattern) => pattern.startsWith('(?i)'))).toBe(true);
    expect(patterns.some((pattern) => pattern.includes('(?P<'))).toBe(true);
  });

  it('reads traits, JSONPath properties (bracketed and invalid ones too) and other flags', () => {
    const properties = new Set(conditions.map((condition) => condition.property));
    for (const property of ['$.identity.key', '$.identity.identifier', '$.environment.name', '$.identity.traits.[plan', '']) expect(properties).toContain(property);
    expect([...properties].some((property) => property.startsWith("$.identity.traits['"))).toBe(true);
    expect([...properties].some((property) => /^\$\.flags\.\w+\.enabled$/.test(property))).toBe(true);
    expect([...properties].some((property) => /^\$\.flags\['.+'\]\.value$/.test(property))).toBe(true);
    expect([...properties].some((property) => !property.startsWith('$') && property !== '')).toBe(true);
  });

  it('gives contexts with, without and with a null identity, and traits of every JSON type', () => {
    expect(cases.some((oracleCase) => oracleCase.context.identity === undefined)).toBe(true);
    expect(cases.some((oracleCase) => oracleCase.context.identity === null)).toBe(true);
    expect(cases.some((oracleCase) => oracleCase.context.identity?.key === undefined && oracleCase.context.identity)).toBe(true);
    const kinds = new Set(traitValues.map((value) => (value instanceof FloatNumber ? 'float form' : value === null ? 'null' : typeof value)));
    expect(kinds).toEqual(new Set(['string', 'number', 'float form', 'boolean', 'null', 'bigint']));
    for (const numeric of ['007', '1.5', '1e3']) expect(traitValues).toContain(numeric);
  });

  it('builds multivariate states with and without variant keys, float weights, and sums at and under 100', () => {
    const variantLists = features.flatMap((feature) => (feature.variants ? [feature.variants] : []));
    const sums = variantLists.map((variants) => variants.reduce((sum, variant) => sum + variant.weight.valueOf(), 0));
    expect(sums.some((sum) => Math.abs(sum - 100) < 1e-9)).toBe(true);
    expect(sums.some((sum) => sum < 100)).toBe(true);
    expect(sums.every((sum) => sum <= 100 + 1e-9)).toBe(true);
    const variants = variantLists.flat();
    expect(variants.some((variant) => variant.key === undefined)).toBe(true);
    expect(variants.some((variant) => variant.key !== undefined)).toBe(true);
    expect(variants.some((variant) => variant.weight instanceof FloatNumber)).toBe(true);
  });

  it('gives overrides tied priorities, no priority, and identity overrides at -Infinity as SDKs do', () => {
    const priorities = segments.filter((segment) => segment.name !== 'identity_overrides').flatMap((segment) => (segment.overrides ?? []).map((override) => override.priority));
    expect(priorities).toContain(undefined);
    expect(segments.some((segment) => new Set((segment.overrides ?? []).map((o) => o.priority)).size < (segment.overrides ?? []).length)).toBe(true);
    const identityOverrides = segments.filter((segment) => segment.name === 'identity_overrides');
    expect(identityOverrides.length).toBeGreaterThan(0);
    for (const segment of identityOverrides) {
      expect(segment.metadata).toEqual({ source: 'identity_override' });
      expect(segment.rules[0]?.conditions?.[0]).toMatchObject({ property: '$.identity.identifier', operator: 'IN' });
      for (const override of segment.overrides ?? []) expect(override.priority).toBe(-Infinity);
    }
  });

  it('lists the written order of the segments, integer-like keys included', () => {
    const reordered = cases.find((oracleCase) => {
      const written = oracleCase.order.segments ?? [];
      return written.join() !== Object.keys(oracleCase.context.segments ?? {}).join();
    });
    expect(reordered).toBeDefined();
    for (const oracleCase of cases) expect([...(oracleCase.order.segments ?? [])].sort()).toEqual(Object.keys(oracleCase.context.segments ?? {}).sort());
  });
});
