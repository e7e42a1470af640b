import type { ProjectEvent } from '../lib/project/project.events';
import { DEFAULT_ENVIRONMENT_SETTINGS } from '../lib/project/project.state';

/** Builders for the events most specs start from; override any field. */
export const aProjectCreated = (data: Partial<Extract<ProjectEvent, { type: 'ProjectCreated' }>['data']> = {}): ProjectEvent => ({
  type: 'ProjectCreated',
  data: { projectId: 10, organisationId: 1, name: 'Web', hideDisabledFlags: false, createdAt: '2026-01-01T00:00:00.000Z', ...data },
});

export const anEnvironmentCreated = (
  data: Partial<Extract<ProjectEvent, { type: 'EnvironmentCreated' }>['data']> = {},
): ProjectEvent => ({
  type: 'EnvironmentCreated',
  data: {
    projectId: 10,
    environmentId: 20,
    name: 'Development',
    description: '',
    apiKey: 'client-key-dev',
    settings: DEFAULT_ENVIRONMENT_SETTINGS,
    createdAt: '2026-01-01T00:00:00.000Z',
    featureStates: [],
    ...data,
  },
});

export const aFeatureCreated = (data: Partial<Extract<ProjectEvent, { type: 'FeatureCreated' }>['data']> = {}): ProjectEvent => ({
  type: 'FeatureCreated',
  data: {
    projectId: 10,
    featureId: 30,
    name: 'new_checkout',
    description: '',
    type: 'STANDARD',
    defaultEnabled: false,
    initialValue: null,
    tagIds: [],
    isServerKeyOnly: false,
    options: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    environmentStates: [{ environmentId: 20, featureStateId: 31 }],
    ...data,
  },
});

export const aSegmentCreated = (data: Partial<Extract<ProjectEvent, { type: 'SegmentCreated' }>['data']> = {}): ProjectEvent => ({
  type: 'SegmentCreated',
  data: {
    projectId: 10,
    segmentId: 40,
    name: 'beta users',
    description: '',
    rules: [{ type: 'ALL', rules: [], conditions: [{ property: 'beta', operator: 'EQUAL', value: 'true' }] }],
    createdAt: '2026-01-01T00:00:00.000Z',
    ...data,
  },
});
