import type { EnvironmentDocument, FeatureDocument, FeatureStateDocument, IdentityDocument } from '@flagline/contracts';

/** A standard feature document for specs; `overrides` replace the fields they name. */
export const aFeatureDocument = (id: number, name: string, overrides: Partial<FeatureDocument> = {}): FeatureDocument => ({
  id,
  name,
  type: 'STANDARD',
  description: '',
  initialValue: null,
  defaultEnabled: false,
  isServerKeyOnly: false,
  isArchived: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  options: [],
  ...overrides,
});

/** A feature state document without allocations. */
export const aFeatureStateDocument = (id: number | null, enabled: boolean, value: string, uuid = `uuid-${String(id)}-${value}`): FeatureStateDocument => ({
  id,
  uuid,
  enabled,
  value,
  allocations: [],
});

/**
 * An environment read model for specs: environment 7 ("client-key") of project 3, one feature
 * `banner` (id 1, disabled, "default") and a segment `pro` (plan = pro) overriding it with
 * "für pro ☂"; `overrides` replace the fields they name.
 */
export const anEnvironmentDocument = (overrides: Partial<EnvironmentDocument> = {}): EnvironmentDocument => ({
  schemaVersion: 1,
  environmentId: 7,
  name: 'Production',
  apiKey: 'client-key',
  serverKeys: [],
  settings: { hideDisabledFlags: null, allowClientTraits: true, hideSensitiveData: false, useIdentityCompositeKeyForHashing: false, useIdentityOverridesInLocalEval: true },
  project: { id: 3, name: 'Storefront', organisationId: 1, hideDisabledFlags: false },
  features: [{ feature: aFeatureDocument(1, 'banner'), state: aFeatureStateDocument(11, false, 'default') }],
  segments: [
    {
      id: 21,
      name: 'pro',
      rules: [{ type: 'ALL', conditions: [{ property: 'plan', operator: 'EQUAL', value: 'pro' }], rules: [] }],
      overrides: [{ featureId: 1, priority: 0, state: aFeatureStateDocument(31, true, 'für pro ☂') }],
    },
  ],
  identityOverrides: [],
  revision: 1,
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

/**
 * A stored identity of environment 7 for specs: trait `plan` = pro (so `anEnvironmentDocument`'s
 * segment `pro` matches it), no overrides; `overrides` replace the fields they name.
 */
export const anIdentityDocument = (identifier: string, overrides: Partial<IdentityDocument> = {}): IdentityDocument => ({
  environmentId: 7,
  identifier,
  identityUuid: `00000000-0000-0000-0000-00000000000${identifier.length}`,
  createdAt: '2026-01-01T00:00:00.000Z',
  traits: { plan: 'pro' },
  overrides: [],
  revision: 1,
  ...overrides,
});
