import { foldEvents } from '@flagline/event-sourcing';
import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated, aSegmentCreated } from '../../testing/admin-event.builders';
import { ConflictError, NotFoundError, PreconditionFailedError, type DomainError } from '../shared/domain-error';
import type { Allocation, FeatureValue } from '../shared/values';
import type { ProjectEvent } from './project.events';
import { projectDecider } from './project.decider';
import type { Project } from './project.state';

const withCode = (code: string) => (error: Error) => expect((error as DomainError).code).toBe(code);
const fold = (events: readonly ProjectEvent[]): Project => foldEvents(projectDecider, projectDecider.initialState(), events, 0);

const inBothEnvironments = (development: number, production: number) => [
  { environmentId: 20, featureStateId: development },
  { environmentId: 21, featureStateId: production },
];

const project = aProjectCreated();
const dev = anEnvironmentCreated();
const prod = anEnvironmentCreated({ environmentId: 21, name: 'Production', apiKey: 'client-key-prod' });
const checkout = aFeatureCreated({ featureId: 30, environmentStates: inBothEnvironments(31, 32) });
const colour = aFeatureCreated({
  featureId: 50,
  name: 'button_colour',
  type: 'MULTIVARIATE',
  initialValue: 'grey',
  options: [
    { optionId: 51, value: 'red', key: 'red', defaultAllocation: 30 },
    { optionId: 52, value: 'blue', key: 'blue', defaultAllocation: 20 },
  ],
  environmentStates: inBothEnvironments(55, 56),
});
const size = aFeatureCreated({
  featureId: 57,
  name: 'button_size',
  type: 'MULTIVARIATE',
  options: [{ optionId: 58, value: 'large', key: 'large', defaultAllocation: 50 }],
  environmentStates: inBothEnvironments(59, 60),
});
const beta = aSegmentCreated({ segmentId: 40 });
const staff = aSegmentCreated({ segmentId: 41, name: 'staff' });
const europe = aSegmentCreated({ segmentId: 42, name: 'europe' });

/** Revisions 0..8 of the stream every spec below starts from. */
const base = [project, dev, prod, checkout, colour, size, beta, staff, europe];

const defaultAllocations: Allocation[] = [
  { optionId: 51, percentage: 30 },
  { optionId: 52, percentage: 20 },
];

const overrideCreated = (
  featureId: number,
  segmentId: number,
  featureStateId: number,
  priority: number,
  changes: { environmentId?: number; enabled?: boolean; value?: FeatureValue; allocations?: Allocation[] } = {},
): ProjectEvent => ({
  type: 'SegmentOverrideCreated',
  data: {
    projectId: 10,
    environmentId: changes.environmentId ?? 20,
    featureId,
    segmentId,
    featureStateId,
    enabled: changes.enabled ?? true,
    value: changes.value ?? null,
    allocations: changes.allocations ?? [],
    priority,
  },
});

const overrideOrder = (state: Project, environmentId: number, featureId: number): number[] | undefined =>
  state.environments
    .get(environmentId)
    ?.segmentOverrides.get(featureId)
    ?.map((override) => override.segmentId);

describe('Feature state', () => {
  const spec = deciderSpecification(projectDecider);
  const ids = { projectId: 10, environmentId: 20 };

  it('is enabled, keeping its value and lineage id', () => {
    spec(base)
      .when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 30, enabled: true })
      .then({ type: 'FeatureStateChanged', data: { ...ids, featureId: 30, featureStateId: 31, enabled: true, value: null, allocations: [] } });
  });

  it('changes its value, keeping its enabled state', () => {
    spec(base)
      .when({ type: 'ChangeFeatureState', environmentId: 21, featureId: 30, value: 'v2' })
      .then({ type: 'FeatureStateChanged', data: { projectId: 10, environmentId: 21, featureId: 30, featureStateId: 32, enabled: false, value: 'v2', allocations: [] } });
  });

  it('clears its value', () => {
    spec(base)
      .when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 50, value: null })
      .then({ type: 'FeatureStateChanged', data: { ...ids, featureId: 50, featureStateId: 55, enabled: false, value: null, allocations: defaultAllocations } });
  });

  it('changes its allocations', () => {
    const allocations = [
      { optionId: 52, percentage: 60 },
      { optionId: 51, percentage: 40 },
    ];
    spec(base)
      .when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 50, allocations })
      .then({ type: 'FeatureStateChanged', data: { ...ids, featureId: 50, featureStateId: 55, enabled: false, value: 'grey', allocations } });
  });

  it('changes everything at once in one event', () => {
    spec(base)
      .when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 50, enabled: true, value: 'white', allocations: [{ optionId: 51, percentage: 100 }] })
      .then({
        type: 'FeatureStateChanged',
        data: { ...ids, featureId: 50, featureStateId: 55, enabled: true, value: 'white', allocations: [{ optionId: 51, percentage: 100 }] },
      });
  });

  it('does nothing when nothing changes', () => {
    spec(base)
      .when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 50, enabled: false, value: 'grey', allocations: defaultAllocations })
      .thenNothingHappened();
  });

  it('does nothing when no field is given', () => {
    spec(base).when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 30 }).thenNothingHappened();
  });

  it('rejects allocating an option of another feature', () => {
    spec(base)
      .when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 50, allocations: [{ optionId: 58, percentage: 10 }] })
      .thenThrows(ConflictError, withCode('ALLOCATION.UNKNOWN_OPTION'));
  });

  it('rejects allocations on a feature without options', () => {
    spec(base)
      .when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 30, allocations: [{ optionId: 51, percentage: 10 }] })
      .thenThrows(ConflictError, withCode('ALLOCATION.UNKNOWN_OPTION'));
  });

  it('rejects allocations summing over 100', () => {
    spec(base)
      .when({
        type: 'ChangeFeatureState',
        environmentId: 20,
        featureId: 50,
        allocations: [
          { optionId: 51, percentage: 70 },
          { optionId: 52, percentage: 31 },
        ],
      })
      .thenThrows(ConflictError, withCode('ALLOCATION.INVALID'));
  });

  it('rejects allocating an option twice', () => {
    spec(base)
      .when({
        type: 'ChangeFeatureState',
        environmentId: 20,
        featureId: 50,
        allocations: [
          { optionId: 51, percentage: 10 },
          { optionId: 51, percentage: 10 },
        ],
      })
      .thenThrows(ConflictError, withCode('ALLOCATION.INVALID'));
  });

  it('rejects an unknown feature as not found', () => {
    spec(base).when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 99, enabled: true }).thenThrows(NotFoundError, withCode('FEATURE.NOT_FOUND'));
  });

  it('rejects an unknown environment as not found', () => {
    spec(base).when({ type: 'ChangeFeatureState', environmentId: 99, featureId: 30, enabled: true }).thenThrows(NotFoundError, withCode('ENVIRONMENT.NOT_FOUND'));
  });

  it('rejects a feature without a state in the environment as not found', () => {
    spec([...base, aFeatureCreated({ featureId: 33, name: 'wallet', environmentStates: [{ environmentId: 21, featureStateId: 34 }] })])
      .when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 33, enabled: true })
      .thenThrows(NotFoundError, withCode('FEATURE_STATE.NOT_FOUND'));
  });

  it('changes when the expected revision is the revision of its last change', () => {
    spec([...base, { type: 'FeatureStateChanged', data: { ...ids, featureId: 30, featureStateId: 31, enabled: true, value: null, allocations: [] } }])
      .when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 30, enabled: false, expectedRevision: 9 })
      .then({ type: 'FeatureStateChanged', data: { ...ids, featureId: 30, featureStateId: 31, enabled: false, value: null, allocations: [] } });
  });

  it('rejects a change at a stale revision', () => {
    spec([...base, { type: 'FeatureStateChanged', data: { ...ids, featureId: 30, featureStateId: 31, enabled: true, value: null, allocations: [] } }])
      .when({ type: 'ChangeFeatureState', environmentId: 20, featureId: 30, enabled: false, expectedRevision: 3 })
      .thenThrows(PreconditionFailedError, (error) => expect((error as DomainError).details).toEqual({ expected: 3, actual: 9 }));
  });

  it('keeps the revision of its own environment only', () => {
    const state = fold([...base, { type: 'FeatureStateChanged', data: { ...ids, featureId: 30, featureStateId: 31, enabled: true, value: 'v2', allocations: [] } }]);
    expect(state.environments.get(20)?.featureStates.get(30)).toEqual({ featureStateId: 31, enabled: true, value: 'v2', allocations: [], revision: 9 });
    expect(state.environments.get(21)?.featureStates.get(30)).toEqual({ featureStateId: 32, enabled: false, value: null, allocations: [], revision: 3 });
  });
});

describe('Segment override', () => {
  const spec = deciderSpecification(projectDecider);
  const ids = { projectId: 10, environmentId: 20 };

  describe('when created', () => {
    it('is appended as the weakest override by default', () => {
      spec([...base, overrideCreated(30, 41, 71, 0)])
        .when({ type: 'CreateSegmentOverride', environmentId: 20, featureId: 30, segmentId: 40, featureStateId: 70, enabled: true, value: 'beta' })
        .then(overrideCreated(30, 40, 70, 1, { value: 'beta' }));
    });

    it('starts from the feature\u2019s default allocations when none are given', () => {
      spec(base)
        .when({ type: 'CreateSegmentOverride', environmentId: 20, featureId: 50, segmentId: 40, featureStateId: 70, enabled: false, value: 'grey' })
        .then(overrideCreated(50, 40, 70, 0, { enabled: false, value: 'grey', allocations: defaultAllocations }));
    });

    it('takes the given allocations', () => {
      spec(base)
        .when({
          type: 'CreateSegmentOverride',
          environmentId: 20,
          featureId: 50,
          segmentId: 40,
          featureStateId: 70,
          enabled: true,
          value: 'grey',
          allocations: [{ optionId: 52, percentage: 100 }],
        })
        .then(overrideCreated(50, 40, 70, 0, { value: 'grey', allocations: [{ optionId: 52, percentage: 100 }] }));
    });

    it('rejects allocating an option of another feature', () => {
      spec(base)
        .when({
          type: 'CreateSegmentOverride',
          environmentId: 20,
          featureId: 50,
          segmentId: 40,
          featureStateId: 70,
          enabled: true,
          value: 'grey',
          allocations: [{ optionId: 58, percentage: 10 }],
        })
        .thenThrows(ConflictError, withCode('ALLOCATION.UNKNOWN_OPTION'));
    });

    it('rejects allocations summing over 100', () => {
      spec(base)
        .when({
          type: 'CreateSegmentOverride',
          environmentId: 20,
          featureId: 50,
          segmentId: 40,
          featureStateId: 70,
          enabled: true,
          value: 'grey',
          allocations: [
            { optionId: 51, percentage: 50 },
            { optionId: 52, percentage: 50.5 },
          ],
        })
        .thenThrows(ConflictError, withCode('ALLOCATION.INVALID'));
    });

    it('is inserted at the given priority', () => {
      spec([...base, overrideCreated(30, 41, 71, 0), overrideCreated(30, 42, 72, 1)])
        .when({ type: 'CreateSegmentOverride', environmentId: 20, featureId: 30, segmentId: 40, featureStateId: 70, enabled: true, value: null, priority: 1 })
        .then(overrideCreated(30, 40, 70, 1));
    });

    it('is appended when the given priority is past the end', () => {
      spec([...base, overrideCreated(30, 41, 71, 0)])
        .when({ type: 'CreateSegmentOverride', environmentId: 20, featureId: 30, segmentId: 40, featureStateId: 70, enabled: true, value: null, priority: 5 })
        .then(overrideCreated(30, 40, 70, 1));
    });

    it('takes its place in the override order', () => {
      const state = fold([...base, overrideCreated(30, 41, 71, 0), overrideCreated(30, 42, 72, 1), overrideCreated(30, 40, 70, 1)]);
      expect(overrideOrder(state, 20, 30)).toEqual([41, 40, 42]);
    });

    it('becomes the strongest at priority 0', () => {
      const state = fold([...base, overrideCreated(30, 41, 71, 0), overrideCreated(30, 42, 72, 1), overrideCreated(30, 40, 70, 0)]);
      expect(overrideOrder(state, 20, 30)).toEqual([40, 41, 42]);
    });

    it('rejects a second override of the same segment', () => {
      spec([...base, overrideCreated(30, 40, 70, 0)])
        .when({ type: 'CreateSegmentOverride', environmentId: 20, featureId: 30, segmentId: 40, featureStateId: 73, enabled: false, value: null })
        .thenThrows(ConflictError, withCode('SEGMENT_OVERRIDE.EXISTS'));
    });

    it('accepts the same segment in another environment', () => {
      spec([...base, overrideCreated(30, 40, 70, 0)])
        .when({ type: 'CreateSegmentOverride', environmentId: 21, featureId: 30, segmentId: 40, featureStateId: 73, enabled: true, value: null })
        .then(overrideCreated(30, 40, 73, 0, { environmentId: 21 }));
    });

    it('rejects a feature of another project as a conflict', () => {
      spec(base)
        .when({ type: 'CreateSegmentOverride', environmentId: 20, featureId: 99, segmentId: 40, featureStateId: 70, enabled: true, value: null })
        .thenThrows(ConflictError, withCode('FEATURE.NOT_IN_PROJECT'));
    });

    it('rejects a segment of another project as a conflict', () => {
      spec(base)
        .when({ type: 'CreateSegmentOverride', environmentId: 20, featureId: 30, segmentId: 99, featureStateId: 70, enabled: true, value: null })
        .thenThrows(ConflictError, withCode('SEGMENT.NOT_IN_PROJECT'));
    });

    it('rejects an unknown environment as not found', () => {
      spec(base)
        .when({ type: 'CreateSegmentOverride', environmentId: 99, featureId: 30, segmentId: 40, featureStateId: 70, enabled: true, value: null })
        .thenThrows(NotFoundError, withCode('ENVIRONMENT.NOT_FOUND'));
    });
  });

  describe('when changed', () => {
    const given = [...base, overrideCreated(50, 41, 71, 0), overrideCreated(50, 40, 70, 1, { value: 'beta', allocations: defaultAllocations })];

    it('is disabled, keeping its value and allocations', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 20, featureId: 50, segmentId: 40, enabled: false })
        .then({ type: 'SegmentOverrideChanged', data: { ...ids, featureId: 50, segmentId: 40, enabled: false, value: 'beta', allocations: defaultAllocations } });
    });

    it('changes its value', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 20, featureId: 50, segmentId: 40, value: 'gold' })
        .then({ type: 'SegmentOverrideChanged', data: { ...ids, featureId: 50, segmentId: 40, enabled: true, value: 'gold', allocations: defaultAllocations } });
    });

    it('changes its allocations', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 20, featureId: 50, segmentId: 40, allocations: [{ optionId: 51, percentage: 100 }] })
        .then({
          type: 'SegmentOverrideChanged',
          data: { ...ids, featureId: 50, segmentId: 40, enabled: true, value: 'beta', allocations: [{ optionId: 51, percentage: 100 }] },
        });
    });

    it('does nothing when nothing changes', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 20, featureId: 50, segmentId: 40, enabled: true, value: 'beta', allocations: defaultAllocations })
        .thenNothingHappened();
    });

    it('rejects allocating an option of another feature', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 20, featureId: 50, segmentId: 40, allocations: [{ optionId: 58, percentage: 10 }] })
        .thenThrows(ConflictError, withCode('ALLOCATION.UNKNOWN_OPTION'));
    });

    it('rejects allocations summing over 100', () => {
      spec(given)
        .when({
          type: 'ChangeSegmentOverride',
          environmentId: 20,
          featureId: 50,
          segmentId: 40,
          allocations: [
            { optionId: 51, percentage: 90 },
            { optionId: 52, percentage: 20 },
          ],
        })
        .thenThrows(ConflictError, withCode('ALLOCATION.INVALID'));
    });

    it('rejects a segment without an override here as not found', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 20, featureId: 50, segmentId: 42, enabled: false })
        .thenThrows(NotFoundError, withCode('SEGMENT_OVERRIDE.NOT_FOUND'));
    });

    it('rejects an override of another environment as not found', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 21, featureId: 50, segmentId: 40, enabled: false })
        .thenThrows(NotFoundError, withCode('SEGMENT_OVERRIDE.NOT_FOUND'));
    });

    it('rejects an unknown segment as not found', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 20, featureId: 50, segmentId: 99, enabled: false })
        .thenThrows(NotFoundError, withCode('SEGMENT.NOT_FOUND'));
    });

    it('rejects an unknown feature as not found', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 20, featureId: 99, segmentId: 40, enabled: false })
        .thenThrows(NotFoundError, withCode('FEATURE.NOT_FOUND'));
    });

    it('changes when the expected revision is the revision of its creation', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 20, featureId: 50, segmentId: 40, enabled: false, expectedRevision: 10 })
        .then({ type: 'SegmentOverrideChanged', data: { ...ids, featureId: 50, segmentId: 40, enabled: false, value: 'beta', allocations: defaultAllocations } });
    });

    it('rejects a change at a stale revision', () => {
      spec(given)
        .when({ type: 'ChangeSegmentOverride', environmentId: 20, featureId: 50, segmentId: 41, enabled: false, expectedRevision: 10 })
        .thenThrows(PreconditionFailedError, (error) => expect((error as DomainError).details).toEqual({ expected: 10, actual: 9 }));
    });

    it('keeps its place in the order and takes the new revision', () => {
      const state = fold([
        ...given,
        { type: 'SegmentOverrideChanged', data: { ...ids, featureId: 50, segmentId: 41, enabled: false, value: 'staff', allocations: [] } },
      ]);
      expect(state.environments.get(20)?.segmentOverrides.get(50)).toEqual([
        { segmentId: 41, featureStateId: 71, enabled: false, value: 'staff', allocations: [], revision: 11 },
        { segmentId: 40, featureStateId: 70, enabled: true, value: 'beta', allocations: defaultAllocations, revision: 10 },
      ]);
    });
  });

  describe('when removed', () => {
    const given = [...base, overrideCreated(30, 41, 71, 0), overrideCreated(30, 40, 70, 1), overrideCreated(30, 42, 72, 2)];

    it('is removed', () => {
      spec(given)
        .when({ type: 'RemoveSegmentOverride', environmentId: 20, featureId: 30, segmentId: 40 })
        .then({ type: 'SegmentOverrideRemoved', data: { ...ids, featureId: 30, segmentId: 40 } });
    });

    it('rejects a segment without an override here as not found', () => {
      spec(given)
        .when({ type: 'RemoveSegmentOverride', environmentId: 21, featureId: 30, segmentId: 40 })
        .thenThrows(NotFoundError, withCode('SEGMENT_OVERRIDE.NOT_FOUND'));
    });

    it('rejects removing it twice as not found', () => {
      spec([...given, { type: 'SegmentOverrideRemoved', data: { ...ids, featureId: 30, segmentId: 40 } }])
        .when({ type: 'RemoveSegmentOverride', environmentId: 20, featureId: 30, segmentId: 40 })
        .thenThrows(NotFoundError, withCode('SEGMENT_OVERRIDE.NOT_FOUND'));
    });

    it('rejects an unknown feature as not found', () => {
      spec(given)
        .when({ type: 'RemoveSegmentOverride', environmentId: 20, featureId: 99, segmentId: 40 })
        .thenThrows(NotFoundError, withCode('FEATURE.NOT_FOUND'));
    });

    it('leaves the others in order', () => {
      const state = fold([...given, { type: 'SegmentOverrideRemoved', data: { ...ids, featureId: 30, segmentId: 40 } }]);
      expect(overrideOrder(state, 20, 30)).toEqual([41, 42]);
    });

    it('leaves no override list behind when it was the last', () => {
      const state = fold([...base, overrideCreated(30, 40, 70, 0), { type: 'SegmentOverrideRemoved', data: { ...ids, featureId: 30, segmentId: 40 } }]);
      expect(state.environments.get(20)?.segmentOverrides.has(30)).toBe(false);
    });
  });

  describe('when reordered', () => {
    const given = [...base, overrideCreated(30, 41, 71, 0), overrideCreated(30, 40, 70, 1), overrideCreated(30, 42, 72, 2)];

    it('takes the new order', () => {
      spec(given)
        .when({ type: 'ReorderSegmentOverrides', environmentId: 20, featureId: 30, segmentIds: [42, 41, 40] })
        .then({ type: 'SegmentOverridesReordered', data: { ...ids, featureId: 30, segmentIds: [42, 41, 40] } });
    });

    it('folds into the new order', () => {
      const state = fold([...given, { type: 'SegmentOverridesReordered', data: { ...ids, featureId: 30, segmentIds: [42, 41, 40] } }]);
      expect(overrideOrder(state, 20, 30)).toEqual([42, 41, 40]);
    });

    it('does nothing when the order is the same', () => {
      spec(given).when({ type: 'ReorderSegmentOverrides', environmentId: 20, featureId: 30, segmentIds: [41, 40, 42] }).thenNothingHappened();
    });

    it('does nothing for a feature without overrides given an empty order', () => {
      spec(given).when({ type: 'ReorderSegmentOverrides', environmentId: 21, featureId: 30, segmentIds: [] }).thenNothingHappened();
    });

    it('rejects an order missing a segment', () => {
      spec(given)
        .when({ type: 'ReorderSegmentOverrides', environmentId: 20, featureId: 30, segmentIds: [42, 41] })
        .thenThrows(ConflictError, withCode('SEGMENT_OVERRIDE.ORDER_MISMATCH'));
    });

    it('rejects an order naming a segment without an override', () => {
      spec(given)
        .when({ type: 'ReorderSegmentOverrides', environmentId: 20, featureId: 30, segmentIds: [42, 41, 40, 43] })
        .thenThrows(ConflictError, withCode('SEGMENT_OVERRIDE.ORDER_MISMATCH'));
    });

    it('rejects an order listing a segment twice', () => {
      spec(given)
        .when({ type: 'ReorderSegmentOverrides', environmentId: 20, featureId: 30, segmentIds: [42, 42, 40] })
        .thenThrows(ConflictError, withCode('SEGMENT_OVERRIDE.ORDER_MISMATCH'));
    });

    it('rejects an unknown feature as not found', () => {
      spec(given)
        .when({ type: 'ReorderSegmentOverrides', environmentId: 20, featureId: 99, segmentIds: [] })
        .thenThrows(NotFoundError, withCode('FEATURE.NOT_FOUND'));
    });

    it('rejects an unknown environment as not found', () => {
      spec(given)
        .when({ type: 'ReorderSegmentOverrides', environmentId: 99, featureId: 30, segmentIds: [] })
        .thenThrows(NotFoundError, withCode('ENVIRONMENT.NOT_FOUND'));
    });
  });
});
