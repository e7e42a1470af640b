import { foldEvents } from '@flagline/event-sourcing';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated, aSegmentCreated } from '../../testing/admin-event.builders';
import type { ProjectEvent } from './project.events';
import { evolveProject } from './project.evolve';
import { DEFAULT_ENVIRONMENT_SETTINGS, initialProject, type Project } from './project.state';

const CREATED = '2026-01-01T00:00:00.000Z';

const fold = (events: readonly ProjectEvent[]): Project => foldEvents({ evolve: evolveProject }, initialProject(), events, 0);

/** The project with its maps as `Map`s (the fold's are persistent maps), entries in their order, to compare with literals. */
const withNativeMaps = (project: Project): Project => ({
  ...project,
  tags: new Map(project.tags),
  features: new Map(project.features),
  segments: new Map(project.segments),
  environments: new Map(
    [...project.environments].map(([environmentId, environment]) => [
      environmentId,
      { ...environment, serverKeys: new Map(environment.serverKeys), featureStates: new Map(environment.featureStates), segmentOverrides: new Map(environment.segmentOverrides) },
    ]),
  ),
});

const betaRules = [{ type: 'ALL' as const, rules: [], conditions: [{ property: 'beta', operator: 'EQUAL' as const, value: 'true' }] }];

/** A project's life; each event's stream revision is its index. */
const history: ProjectEvent[] = [
  /* 0 */ aProjectCreated(),
  /* 1 */ anEnvironmentCreated(),
  /* 2 */ { type: 'TagCreated', data: { projectId: 10, tagId: 60, label: 'checkout', color: '#ff0000', description: '' } },
  /* 3 */ aFeatureCreated({ tagIds: [60], environmentStates: [{ environmentId: 20, featureStateId: 31 }] }),
  /* 4 */ aSegmentCreated({ segmentId: 40 }),
  /* 5 */ aSegmentCreated({ segmentId: 41, name: 'staff' }),
  /* 6 */ anEnvironmentCreated({ environmentId: 21, name: 'Production', apiKey: 'client-key-prod', featureStates: [{ featureId: 30, featureStateId: 32 }] }),
  /* 7 */ {
    type: 'FeatureStateChanged',
    data: { projectId: 10, environmentId: 20, featureId: 30, featureStateId: 31, enabled: true, value: 'v2', allocations: [] },
  },
  /* 8 */ {
    type: 'SegmentOverrideCreated',
    data: { projectId: 10, environmentId: 20, featureId: 30, segmentId: 40, featureStateId: 70, enabled: true, value: 'beta', allocations: [], priority: 0 },
  },
  /* 9 */ {
    type: 'SegmentOverrideCreated',
    data: { projectId: 10, environmentId: 20, featureId: 30, segmentId: 41, featureStateId: 71, enabled: false, value: null, allocations: [], priority: 0 },
  },
  /* 10 */ { type: 'SegmentOverridesReordered', data: { projectId: 10, environmentId: 20, featureId: 30, segmentIds: [40, 41] } },
  /* 11 */ { type: 'FeatureRenamed', data: { projectId: 10, featureId: 30, name: 'checkout_v2' } },
  /* 12 */ { type: 'ProjectSettingsChanged', data: { projectId: 10, name: 'Web app', hideDisabledFlags: true } },
  /* 13 */ {
    type: 'ServerKeyIssued',
    data: { projectId: 10, environmentId: 21, keyId: 'k1', name: 'backend', keyHash: 'c'.repeat(64), prefix: 'ser.abc', createdAt: CREATED },
  },
  /* 14 */ { type: 'SegmentRenamed', data: { projectId: 10, segmentId: 41, name: 'staff members' } },
  /* 15 */ { type: 'EnvironmentRenamed', data: { projectId: 10, environmentId: 21, name: 'Live', description: 'Customers' } },
];

describe('Project evolve', () => {
  it('starts absent', () => {
    expect(initialProject()).toEqual({
      status: 'absent',
      projectId: 0,
      organisationId: 0,
      name: '',
      hideDisabledFlags: false,
      createdAt: '',
      revision: -1,
      tags: new Map(),
      features: new Map(),
      segments: new Map(),
      environments: new Map(),
    });
  });

  it('folds a history into the project, each entity at the revision of its last change', () => {
    expect(withNativeMaps(fold(history))).toEqual({
      status: 'active',
      projectId: 10,
      organisationId: 1,
      name: 'Web app',
      hideDisabledFlags: true,
      createdAt: CREATED,
      revision: 12,
      tags: new Map([[60, { tagId: 60, label: 'checkout', color: '#ff0000', description: '', revision: 2 }]]),
      features: new Map([
        [
          30,
          {
            featureId: 30,
            name: 'checkout_v2',
            description: '',
            type: 'STANDARD',
            defaultEnabled: false,
            initialValue: null,
            tagIds: [60],
            isArchived: false,
            isServerKeyOnly: false,
            options: [],
            createdAt: CREATED,
            revision: 11,
          },
        ],
      ]),
      segments: new Map([
        [40, { segmentId: 40, name: 'beta users', description: '', rules: betaRules, createdAt: CREATED, revision: 4 }],
        [41, { segmentId: 41, name: 'staff members', description: '', rules: betaRules, createdAt: CREATED, revision: 14 }],
      ]),
      environments: new Map([
        [
          20,
          {
            environmentId: 20,
            name: 'Development',
            description: '',
            apiKey: 'client-key-dev',
            settings: DEFAULT_ENVIRONMENT_SETTINGS,
            serverKeys: new Map(),
            featureStates: new Map([[30, { featureStateId: 31, enabled: true, value: 'v2', allocations: [], revision: 7 }]]),
            segmentOverrides: new Map([
              [
                30,
                [
                  { segmentId: 40, featureStateId: 70, enabled: true, value: 'beta', allocations: [], revision: 8 },
                  { segmentId: 41, featureStateId: 71, enabled: false, value: null, allocations: [], revision: 9 },
                ],
              ],
            ]),
            createdAt: CREATED,
            revision: 1,
          },
        ],
        [
          21,
          {
            environmentId: 21,
            name: 'Live',
            description: 'Customers',
            apiKey: 'client-key-prod',
            settings: DEFAULT_ENVIRONMENT_SETTINGS,
            serverKeys: new Map([['k1', { keyId: 'k1', name: 'backend', keyHash: 'c'.repeat(64), prefix: 'ser.abc', createdAt: CREATED, revokedAt: null }]]),
            featureStates: new Map([[30, { featureStateId: 32, enabled: false, value: null, allocations: [], revision: 6 }]]),
            segmentOverrides: new Map(),
            createdAt: CREATED,
            revision: 15,
          },
        ],
      ]),
    });
  });

  it('puts an override created at a priority before the one holding it', () => {
    const state = fold(history.slice(0, 10));
    expect(state.environments.get(20)?.segmentOverrides.get(30)?.map((override) => override.segmentId)).toEqual([41, 40]);
  });

  it('marks the project deleted at the revision of its deletion', () => {
    const state = fold([...history, { type: 'ProjectDeleted', data: { projectId: 10, environmentIds: [20, 21] } }]);
    expect(state.status).toBe('deleted');
    expect(state.revision).toBe(16);
  });

  it('takes a deleted environment out of the project', () => {
    const state = fold([...history, { type: 'EnvironmentDeleted', data: { projectId: 10, environmentId: 20 } }]);
    expect([...state.environments.keys()]).toEqual([21]);
  });

  it('gives a new environment no state for a feature it does not know', () => {
    const state = fold([aProjectCreated(), anEnvironmentCreated({ featureStates: [{ featureId: 99, featureStateId: 98 }] })]);
    expect(state.environments.get(20)?.featureStates.size).toBe(0);
  });

  it('ignores events about entities it does not know', () => {
    const before = fold(history);
    const unknown: ProjectEvent[] = [
      { type: 'FeatureRenamed', data: { projectId: 10, featureId: 99, name: 'ghost' } },
      { type: 'FeatureArchived', data: { projectId: 10, featureId: 99 } },
      { type: 'SegmentRenamed', data: { projectId: 10, segmentId: 99, name: 'ghost' } },
      { type: 'TagChanged', data: { projectId: 10, tagId: 99, label: 'ghost', color: '#000000', description: '' } },
      { type: 'EnvironmentRenamed', data: { projectId: 10, environmentId: 99, name: 'ghost', description: '' } },
      { type: 'ServerKeyRevoked', data: { projectId: 10, environmentId: 21, keyId: 'k9', revokedAt: CREATED } },
      { type: 'FeatureStateChanged', data: { projectId: 10, environmentId: 99, featureId: 30, featureStateId: 31, enabled: true, value: null, allocations: [] } },
      { type: 'SegmentOverrideChanged', data: { projectId: 10, environmentId: 20, featureId: 30, segmentId: 99, enabled: true, value: null, allocations: [] } },
    ];
    expect(foldEvents({ evolve: evolveProject }, before, unknown, history.length)).toEqual(before);
  });
});
