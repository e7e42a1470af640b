import type { EnvironmentDocument, FeatureDocument, FeatureStateDocument } from '@flagline/contracts';
import { ServedEnvironment } from './served-environment';
import { aFeatureDocument, aFeatureStateDocument } from './testing/environment-documents';
import { seededRandom } from './testing/random';

const feature = (id: number): FeatureDocument => aFeatureDocument(id, `feature_${id}`, { description: `about ${id}` });

const state = (id: number, enabled: boolean): FeatureStateDocument => aFeatureStateDocument(id, enabled, `v${id}`, `uuid-${id}`);

const first: EnvironmentDocument = {
  schemaVersion: 1,
  environmentId: 7,
  name: 'Production',
  apiKey: 'client-key',
  serverKeys: [],
  settings: { hideDisabledFlags: null, allowClientTraits: true, hideSensitiveData: false, useIdentityCompositeKeyForHashing: true, useIdentityOverridesInLocalEval: true },
  project: { id: 3, name: 'Storefront', organisationId: 1, hideDisabledFlags: false },
  features: [1, 2, 3].map((id) => ({ feature: feature(id), state: state(10 + id, false) })),
  segments: [
    {
      id: 21,
      name: 'pro',
      rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }], rules: [] }],
      overrides: [{ featureId: 3, priority: 0, state: state(31, true) }],
    },
  ],
  identityOverrides: [],
  revision: 1,
  updatedAt: '2026-01-01T00:00:00.000Z',
};

/** The next revision with feature 2 toggled on and everything else shared with `first` (as the projection writes it). */
const toggled: EnvironmentDocument = {
  ...first,
  features: first.features.map((entry) => (entry.feature.id === 2 ? { ...entry, state: { ...entry.state, enabled: true } } : entry)),
  revision: 2,
};

const body = (served: ServedEnvironment): string => String(served.environmentFlagsAnswer('client').body);
const identify = (served: ServedEnvironment, plan: string) => served.evaluateIdentity({ identifier: 'ada', traits: { plan } }, null);

describe('ServedEnvironment built from its previous revision', () => {
  const before = new ServedEnvironment(first);
  const after = new ServedEnvironment(toggled, before);
  const fresh = new ServedEnvironment(toggled);

  it('keeps the outcomes of what did not change and makes new ones for what did', () => {
    expect(after.anonymousOutcomes[0]).toBe(before.anonymousOutcomes[0]);
    expect(after.anonymousOutcomes[2]).toBe(before.anonymousOutcomes[2]);
    expect(after.anonymousOutcomes[1]).not.toBe(before.anonymousOutcomes[1]);
    expect(after.compiled.segments[0]?.overrides[0]).toBe(before.compiled.segments[0]?.overrides[0]);
  });

  it('serves exactly what a compile from scratch serves', () => {
    expect(body(before)).toContain('"enabled":false');
    expect(body(after)).toBe(body(fresh));
    expect(JSON.parse(body(after))[1]).toMatchObject({ feature: { id: 2 }, enabled: true });
    for (const plan of ['pro', 'free']) {
      expect(identify(after, plan).map(({ enabled, value, reason }) => ({ enabled, value, reason }))).toEqual(
        identify(fresh, plan).map(({ enabled, value, reason }) => ({ enabled, value, reason })),
      );
    }
  });

  it('renders a feature changed in place (a new description) anew, not from the previous fragments', () => {
    const described: EnvironmentDocument = {
      ...toggled,
      features: toggled.features.map((entry) => (entry.feature.id === 1 ? { ...entry, feature: { ...entry.feature, description: 'new words' } } : entry)),
      revision: 3,
    };
    const next = new ServedEnvironment(described, after);
    expect(body(next)).toBe(body(new ServedEnvironment(described)));
    expect(JSON.parse(body(next))[0]).toMatchObject({ feature: { description: 'new words' } });
  });

  it('renders again when the environment starts hiding sensitive data', () => {
    const hidden: EnvironmentDocument = { ...toggled, settings: { ...toggled.settings, hideSensitiveData: true }, revision: 3 };
    const next = new ServedEnvironment(hidden, after);
    expect(body(after)).toContain('"description":"about 1"');
    expect(body(next)).toBe(body(new ServedEnvironment(hidden)));
    expect(JSON.parse(body(next))[0]).toMatchObject({ id: null, feature: { description: null } });
  });

  it('applies a toggle and new features as a patch of the previous compile, serving what a compile serves', () => {
    const appended: EnvironmentDocument = {
      ...toggled,
      features: [...toggled.features, { feature: feature(4), state: state(14, true) }, { feature: feature(5), state: state(15, false) }],
      revision: 3,
    };
    const next = new ServedEnvironment(appended, after);
    // A patch keeps the compiled segments; a compile would have made new ones.
    expect(after.compiled.segments).toBe(before.compiled.segments);
    expect(next.compiled.segments).toBe(before.compiled.segments);
    expect(next.anonymousOutcomes.slice(0, 3)).toEqual(after.anonymousOutcomes);
    expect(body(next)).toBe(body(new ServedEnvironment(appended)));
    expect(next.environmentFlag('feature_5', 'client')?.enabled).toBe(false);
    for (const plan of ['pro', 'free']) {
      expect(identify(next, plan).map(({ enabled, value, reason }) => ({ enabled, value, reason }))).toEqual(
        identify(new ServedEnvironment(appended), plan).map(({ enabled, value, reason }) => ({ enabled, value, reason })),
      );
    }
  });

  it('compiles instead of patching when conditions read flags, and still serves the same', () => {
    const dependent: EnvironmentDocument = {
      ...first,
      segments: [{ ...first.segments[0]!, rules: [{ type: 'ALL', conditions: [{ property: '$.flags.feature_2.enabled', operator: 'EQUAL', value: 'true' }], rules: [] }] }],
    };
    const base = new ServedEnvironment(dependent);
    const flipped: EnvironmentDocument = { ...dependent, features: toggled.features, revision: 2 };
    const next = new ServedEnvironment(flipped, base);
    expect(next.compiled.segments).not.toBe(base.compiled.segments);
    // feature_3's override applies once feature_2 is on.
    expect(next.environmentFlag('feature_3', 'client')?.value).toBe('v31');
    expect(body(next)).toBe(body(new ServedEnvironment(flipped)));
  });
});

describe('ServedEnvironment revisions built one from another, against compiles from scratch', () => {
  const answers = (served: ServedEnvironment) => ({
    client: body(served),
    server: String(served.environmentFlagsAnswer('server').body),
    identities: ['ada', 'grace', 'linus'].map((identifier, index) =>
      served.evaluateIdentity({ identifier, traits: { plan: ['pro', 'free', 'team'][index] ?? 'free' } }, null).map(({ enabled, value, reason, variantKey }) => ({ enabled, value, reason, variantKey })),
    ),
  });

  it.each([1, 2, 3, 4, 5])('gives the same answers over 40 random toggles, value changes and new features (seed %i)', (seed) => {
    const next = seededRandom(seed);
    const withOptions = (id: number): FeatureDocument =>
      id % 4 === 0 ? aFeatureDocument(id, `feature_${id}`, { type: 'MULTIVARIATE', options: [{ id: 900 + id, value: 'variant', key: 'v', defaultAllocation: 50 }] }) : feature(id);
    const entryFor = (id: number) => {
      const document = withOptions(id);
      const allocations = document.options.map((option) => ({ optionId: option.id, percentage: option.defaultAllocation }));
      return { feature: document, state: { ...state(10 + id, next() < 0.5), allocations } };
    };
    const environmentWide = { type: 'ALL' as const, conditions: [{ property: '$.environment.name', operator: 'EQUAL', value: 'Production' }], rules: [] };
    let document: EnvironmentDocument = {
      ...first,
      features: [1, 2, 3, 4, 5].map(entryFor),
      segments: [
        first.segments[0]!,
        { id: 22, name: 'everyone here', rules: [environmentWide], overrides: [{ featureId: 2, priority: 0, state: state(32, true) }] },
      ],
    };
    let served = new ServedEnvironment(document);
    let nextId = 6;
    for (let step = 0; step < 40; step++) {
      const features = [...document.features];
      const roll = next();
      if (roll < 0.3) {
        features.push(entryFor(nextId++));
      } else {
        const index = Math.floor(next() * features.length);
        const entry = features[index]!;
        features[index] = { ...entry, state: { ...entry.state, enabled: roll < 0.65 ? !entry.state.enabled : entry.state.enabled, value: `v${step}` } };
      }
      document = { ...document, features, revision: document.revision + 1 };
      served = new ServedEnvironment(document, served);
      expect(answers(served)).toEqual(answers(new ServedEnvironment(document)));
    }
  });
});
