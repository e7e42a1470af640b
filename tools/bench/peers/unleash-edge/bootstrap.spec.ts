import { disagreements, edgeContext, literalSuffix, translateRule, unleashBootstrap, type EnvironmentDocument } from './bootstrap';

const feature = (id: number, name: string, enabled: boolean, value: unknown) => ({ feature: { id, name }, enabled, feature_state_value: value });

/** A document shaped like the benchmark environment's: one override per segment kind. */
const document: EnvironmentDocument = {
  feature_states: [
    feature(1, 'split', false, null),
    feature(2, 'modern', true, 'v2'),
    feature(3, 'staff', false, 7),
    feature(4, 'paying', true, true),
    feature(5, 'adults', true, null),
    { ...feature(6, 'variant', true, 'control'), multivariate_feature_state_values: [{ percentage_allocation: 50, multivariate_feature_option: { value: 'teal' } }] },
  ],
  project: {
    segments: [
      { id: 10, name: 'beta', rules: [{ type: 'ALL', conditions: [{ operator: 'PERCENTAGE_SPLIT', property_: '', value: '30' }] }], feature_states: [feature(1, 'split', true, 'beta-on')] },
      { id: 11, name: 'modern_app', rules: [{ type: 'ALL', conditions: [{ operator: 'GREATER_THAN_INCLUSIVE', property_: 'app_version', value: '2.0.0:semver' }] }], feature_states: [feature(2, 'modern', true, 'v3')] },
      { id: 12, name: 'staff', rules: [{ type: 'ALL', conditions: [{ operator: 'REGEX', property_: 'email', value: '^[a-z0-9.]+@example\\.com$' }] }], feature_states: [feature(3, 'staff', true, 'staff-region')] },
      {
        id: 13,
        name: 'paying',
        rules: [{ type: 'ANY', conditions: [{ operator: 'IN', property_: 'plan', value: 'pro,enterprise' }, { operator: 'GREATER_THAN', property_: 'seats', value: '10' }] }],
        feature_states: [feature(4, 'paying', true, 10)],
      },
      {
        id: 14,
        name: 'adults_outside_eu',
        rules: [{ type: 'ALL', conditions: [{ operator: 'GREATER_THAN_INCLUSIVE', property_: 'age', value: '18' }], rules: [{ type: 'NONE', conditions: [{ operator: 'IN', property_: 'country', value: 'DE,FR' }] }] }],
        feature_states: [feature(5, 'adults', true, 'list')],
      },
    ],
  },
};

describe("Unleash Edge's bootstrap from an environment document", () => {
  const bootstrap = unleashBootstrap(document);
  const byName = new Map(bootstrap.features.map((entry) => [entry.name, entry]));

  it('expands ANY into strategies, semver >= into > or =, NONE into inverted constraints ANDed with the rest', () => {
    expect(byName.get('paying')?.strategies.map((strategy) => strategy.constraints.map((c) => `${c.contextName} ${c.operator} ${(c.values ?? [c.value]).join(',')}`))).toEqual([
      ['plan IN pro,enterprise'],
      ['seats NUM_GT 10'],
      [],
    ]);
    expect(byName.get('modern')?.strategies.map((strategy) => strategy.constraints.map((c) => c.operator))).toEqual([['SEMVER_GT'], ['SEMVER_EQ'], []]);
    const adults = byName.get('adults')?.strategies[0]?.constraints ?? [];
    expect(adults.map((c) => [c.contextName, c.operator, c.inverted])).toEqual([
      ['age', 'NUM_GTE', false],
      ['country', 'IN', true],
    ]);
  });

  it("puts each override's value on its strategies before the default, and leaves a feature disabled by default without a default strategy", () => {
    const modern = byName.get('modern');
    expect(modern?.strategies.map((strategy) => strategy.variants[0]?.payload?.value)).toEqual(['v3', 'v3', 'v2']);
    const staff = byName.get('staff');
    expect(staff?.enabled).toBe(true);
    expect(staff?.strategies).toHaveLength(1);
    expect(staff?.strategies[0]?.constraints[0]).toMatchObject({ contextName: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'] });
    // A null value carries no variant; a boolean is the payload's string.
    expect(byName.get('adults')?.strategies[1]?.variants).toEqual([]);
    expect(byName.get('paying')?.strategies[2]?.variants[0]?.payload?.value).toBe('true');
  });

  it('gives percentage splits and multivariate weights a rollout of the same size and leaves them out of the agreement check', () => {
    expect(byName.get('split')?.strategies).toEqual([{ name: 'flexibleRollout', constraints: [], parameters: { rollout: '30', stickiness: 'default', groupId: 'split' }, variants: [expect.objectContaining({ payload: { type: 'string', value: 'beta-on' } })] }]);
    expect(byName.get('variant')?.strategies[0]?.variants.map((variant) => [variant.weight, variant.payload?.value])).toEqual([[500, 'teal']]);
    expect(bootstrap.deterministicFeatures).toEqual(['modern', 'staff', 'paying', 'adults']);
  });

  it('refuses what it cannot express rather than guessing', () => {
    expect(literalSuffix('^[a-z]+@example\\.com$')).toBe('@example.com');
    expect(literalSuffix('^a.*b$')).toBeUndefined();
    expect(() => translateRule({ type: 'ALL', conditions: [{ operator: 'REGEX', property_: 'email', value: '(x|y)' }] })).toThrow('regular expression (x|y) has no Unleash equivalent');
    expect(() => translateRule({ type: 'ALL', conditions: [{ operator: 'MODULO', property_: 'n', value: '2|0' }] })).toThrow('operator MODULO has no Unleash equivalent here');
  });

  it("compares Edge's enabled toggles with our flags on the deterministic features only", () => {
    const ours = [
      { name: 'modern', enabled: true, value: 'v3' },
      { name: 'staff', enabled: false, value: 7 },
      { name: 'split', enabled: true, value: 'beta-on' },
      { name: 'paying', enabled: true, value: 10 },
      { name: 'adults', enabled: true, value: null },
    ];
    const edge = [
      { name: 'modern', enabled: true, variant: { name: 'value', enabled: true, payload: { value: 'v3' } } },
      { name: 'paying', enabled: true, variant: { name: 'value', enabled: true, payload: { value: '10' } } },
      { name: 'adults', enabled: true, variant: { name: 'disabled', enabled: false } },
    ];
    expect(disagreements(bootstrap.deterministicFeatures, ours, edge)).toEqual([]);
    expect(disagreements(bootstrap.deterministicFeatures, ours, [...edge.slice(1), { name: 'staff', enabled: true }])).toEqual(['modern: ours on v3, Edge off', 'staff: ours off, Edge on (no value)']);
    expect(JSON.parse(edgeContext('u1', { age: 30, plan: 'pro' }))).toEqual({ userId: 'u1', properties: { age: '30', plan: 'pro' } });
  });
});
