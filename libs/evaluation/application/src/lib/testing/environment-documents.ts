import type { FeatureDocument, FeatureStateDocument } from '@flagline/contracts';

/** A standard feature document for specs; `overrides` replace any field. */
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
