import type { EnvironmentDocument, FeatureDocument, FeatureStateDocument, RuleDocument } from '@flagline/contracts';
import { toFlagsmithEnvironmentDocument } from './environment-document.mapper';
import { ServedEnvironment } from './served-environment';
import { aFeatureDocument, aFeatureStateDocument } from './testing/environment-documents';

const feature = (id: number, name: string): FeatureDocument => aFeatureDocument(id, name);

const state = (id: number | null, enabled: boolean, value: string): FeatureStateDocument => aFeatureStateDocument(id, enabled, value);

/** `new checkout` is on for pro plans; `upsell` is on where `new checkout` is on. */
const dependsOnNewCheckout: RuleDocument = {
  type: 'ALL',
  conditions: [{ property: "$.flags['new checkout'].enabled", operator: 'EQUAL', value: 'true' }],
  rules: [],
};

function environmentDocument(): EnvironmentDocument {
  return {
    schemaVersion: 1,
    environmentId: 7,
    name: 'Production',
    apiKey: 'client-key',
    serverKeys: [],
    settings: {
      hideDisabledFlags: null,
      allowClientTraits: true,
      hideSensitiveData: false,
      useIdentityCompositeKeyForHashing: true,
      useIdentityOverridesInLocalEval: true,
    },
    project: { id: 3, name: 'Storefront', organisationId: 1, hideDisabledFlags: false },
    features: [
      { feature: feature(1, 'new checkout'), state: state(11, false, 'off') },
      { feature: feature(2, 'upsell'), state: state(12, false, 'none') },
      { feature: feature(3, 'footer'), state: state(13, true, 'plain') },
    ],
    segments: [
      {
        id: 21,
        name: 'pro',
        rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }], rules: [] }],
        overrides: [{ featureId: 1, priority: 0, state: state(31, true, 'on') }],
      },
      { id: 22, name: 'checkout users', rules: [dependsOnNewCheckout], overrides: [{ featureId: 2, priority: 0, state: state(32, true, 'offer') }] },
    ],
    identityOverrides: [{ identifier: 'grace', identityUuid: 'uuid-grace', createdAt: '2026-01-01T00:00:00.000Z', overrides: [{ featureId: 1, state: state(null, true, 'mine') }] }],
    revision: 1,
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

describe('flag dependencies from the environment read model', () => {
  const served = new ServedEnvironment(environmentDocument());

  it('given a $.flags condition in a segment rule when the environment is compiled then the dependency is evaluated', () => {
    const [, upsell, footer] = served.evaluateIdentity({ identifier: 'ada', traits: { plan: 'pro' } }, null);

    expect(served.compiled.hasFlagDependencies).toBe(true);
    expect(upsell).toMatchObject({ enabled: true, value: 'offer', reason: 'TARGETING_MATCH; segment=checkout users' });
    expect(footer?.reason).toBe('STATIC');
  });

  it('given a flag depended on when it does not apply then its dependants keep their default, reported DEFAULT', () => {
    const [newCheckout, upsell] = served.evaluateIdentity({ identifier: 'bob', traits: { plan: 'free' } }, null);

    expect(newCheckout?.reason).toBe('DEFAULT');
    expect(upsell).toMatchObject({ enabled: false, value: 'none', reason: 'DEFAULT' });
  });

  it('given an identity override of the flag depended on when the identity is evaluated then its dependants see the override', () => {
    const stored = {
      environmentId: 7,
      identifier: 'grace',
      identityUuid: 'uuid-grace',
      createdAt: '2026-01-01T00:00:00.000Z',
      traits: {},
      overrides: [{ featureId: 1, state: state(null, true, 'mine') }],
      revision: 1,
    };

    const [newCheckout, upsell] = served.evaluateIdentity({ identifier: 'grace', traits: {} }, stored);

    expect(newCheckout).toMatchObject({ value: 'mine', reason: 'TARGETING_MATCH; segment=identity_overrides' });
    expect(upsell?.value).toBe('offer');
  });

  it('given a $.flags condition when the Flagsmith environment document is built then the condition is carried unchanged', () => {
    const document = toFlagsmithEnvironmentDocument(environmentDocument()) as { project: { segments: { rules: unknown[] }[] } };

    expect(document.project.segments[1]?.rules).toEqual([
      { type: 'ALL', rules: [], conditions: [{ operator: 'EQUAL', value: 'true', property_: "$.flags['new checkout'].enabled" }] },
    ]);
  });
});
