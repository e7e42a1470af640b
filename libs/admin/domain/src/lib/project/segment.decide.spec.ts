import { foldEvents } from '@flagline/event-sourcing';
import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated, aSegmentCreated } from '../../testing/admin-event.builders';
import { NotFoundError, PreconditionFailedError, type DomainError } from '../shared/domain-error';
import type { SegmentRule } from '../segment/segment-rule';
import type { ProjectEvent } from './project.events';
import { projectDecider } from './project.decider';
import type { Project } from './project.state';

const NOW = '2026-02-01T10:00:00.000Z';

const withCode = (code: string) => (error: Error) => expect((error as DomainError).code).toBe(code);
const fold = (events: readonly ProjectEvent[]): Project => foldEvents(projectDecider, projectDecider.initialState(), events, 0);

const betaRules: SegmentRule[] = [{ type: 'ALL', rules: [], conditions: [{ property: 'beta', operator: 'EQUAL', value: 'true' }] }];
const proRules: SegmentRule[] = [
  {
    type: 'ALL',
    conditions: [],
    rules: [{ type: 'ANY', rules: [], conditions: [{ property: 'plan', operator: 'IN', value: 'pro,enterprise' }] }],
  },
];

const overrideCreated = (environmentId: number, featureId: number, segmentId: number, featureStateId: number, priority: number): ProjectEvent => ({
  type: 'SegmentOverrideCreated',
  data: { projectId: 10, environmentId, featureId, segmentId, featureStateId, enabled: true, value: null, allocations: [], priority },
});

describe('Segment', () => {
  const spec = deciderSpecification(projectDecider);
  const ids = { projectId: 10, segmentId: 40 };

  describe('when created', () => {
    it('is created with its rules', () => {
      spec([aProjectCreated()])
        .when({ type: 'CreateSegment', segmentId: 40, name: 'beta users', description: 'Opted in', rules: betaRules, now: NOW })
        .then(aSegmentCreated({ description: 'Opted in', rules: betaRules, createdAt: NOW }));
    });

    it('rejects a missing project as not found', () => {
      spec([])
        .when({ type: 'CreateSegment', segmentId: 40, name: 'beta users', description: '', rules: betaRules, now: NOW })
        .thenThrows(NotFoundError, withCode('PROJECT.NOT_FOUND'));
    });
  });

  describe('when changed', () => {
    const given = [aProjectCreated(), aSegmentCreated()];

    it('is renamed', () => {
      spec(given).when({ type: 'ChangeSegment', segmentId: 40, name: 'early adopters' }).then([{ type: 'SegmentRenamed', data: { ...ids, name: 'early adopters' } }]);
    });

    it('changes its description', () => {
      spec(given)
        .when({ type: 'ChangeSegment', segmentId: 40, description: 'Opted in' })
        .then([{ type: 'SegmentDescriptionChanged', data: { ...ids, description: 'Opted in' } }]);
    });

    it('changes its rules', () => {
      spec(given).when({ type: 'ChangeSegment', segmentId: 40, rules: proRules }).then([{ type: 'SegmentRuleChanged', data: { ...ids, rules: proRules } }]);
    });

    it('changes several fields at once, one event each, in a fixed order', () => {
      spec(given)
        .when({ type: 'ChangeSegment', segmentId: 40, rules: proRules, description: 'Paying', name: 'pro' })
        .then([
          { type: 'SegmentRenamed', data: { ...ids, name: 'pro' } },
          { type: 'SegmentDescriptionChanged', data: { ...ids, description: 'Paying' } },
          { type: 'SegmentRuleChanged', data: { ...ids, rules: proRules } },
        ]);
    });

    it('does nothing when every given field is unchanged', () => {
      spec(given)
        .when({
          type: 'ChangeSegment',
          segmentId: 40,
          name: 'beta users',
          description: '',
          rules: [{ type: 'ALL', rules: [], conditions: [{ property: 'beta', operator: 'EQUAL', value: 'true' }] }],
        })
        .thenNothingHappened();
    });

    it('rejects an unknown segment as not found', () => {
      spec(given).when({ type: 'ChangeSegment', segmentId: 41, name: 'x' }).thenThrows(NotFoundError, withCode('SEGMENT.NOT_FOUND'));
    });

    it('changes when the expected revision is current', () => {
      spec([...given, { type: 'SegmentRenamed', data: { ...ids, name: 'early adopters' } }])
        .when({ type: 'ChangeSegment', segmentId: 40, description: 'Opted in', expectedRevision: 2 })
        .then([{ type: 'SegmentDescriptionChanged', data: { ...ids, description: 'Opted in' } }]);
    });

    it('rejects a change at a stale revision', () => {
      spec([...given, { type: 'SegmentRenamed', data: { ...ids, name: 'early adopters' } }])
        .when({ type: 'ChangeSegment', segmentId: 40, description: 'Opted in', expectedRevision: 1 })
        .thenThrows(PreconditionFailedError, (error) => {
          expect((error as DomainError).code).toBe('SEGMENT.STALE_REVISION');
          expect((error as DomainError).details).toEqual({ expected: 1, actual: 2 });
        });
    });

    it('keeps the new rules and revision', () => {
      const state = fold([...given, { type: 'SegmentRuleChanged', data: { ...ids, rules: proRules } }]);
      expect(state.segments.get(40)).toEqual({
        segmentId: 40,
        name: 'beta users',
        description: '',
        rules: proRules,
        createdAt: '2026-01-01T00:00:00.000Z',
        revision: 2,
      });
    });
  });

  describe('when deleted', () => {
    const given = [aProjectCreated(), aSegmentCreated()];

    it('is deleted', () => {
      spec(given).when({ type: 'DeleteSegment', segmentId: 40 }).then({ type: 'SegmentDeleted', data: ids });
    });

    it('rejects an unknown segment as not found', () => {
      spec(given).when({ type: 'DeleteSegment', segmentId: 41 }).thenThrows(NotFoundError, withCode('SEGMENT.NOT_FOUND'));
    });

    it('rejects deleting it twice as not found', () => {
      spec([...given, { type: 'SegmentDeleted', data: ids }]).when({ type: 'DeleteSegment', segmentId: 40 }).thenThrows(NotFoundError, withCode('SEGMENT.NOT_FOUND'));
    });

    it('is deleted when the expected revision is current', () => {
      spec(given).when({ type: 'DeleteSegment', segmentId: 40, expectedRevision: 1 }).then({ type: 'SegmentDeleted', data: ids });
    });

    it('rejects a deletion at a stale revision', () => {
      spec(given).when({ type: 'DeleteSegment', segmentId: 40, expectedRevision: 0 }).thenThrows(PreconditionFailedError, withCode('SEGMENT.STALE_REVISION'));
    });

    it('takes its overrides out of every feature in every environment, keeping the others in order', () => {
      const state = fold([
        aProjectCreated(),
        anEnvironmentCreated(),
        anEnvironmentCreated({ environmentId: 21, name: 'Production', apiKey: 'client-key-prod' }),
        aFeatureCreated({ featureId: 30, environmentStates: [] }),
        aFeatureCreated({ featureId: 33, name: 'wallet', environmentStates: [] }),
        aSegmentCreated({ segmentId: 40 }),
        aSegmentCreated({ segmentId: 41, name: 'staff' }),
        aSegmentCreated({ segmentId: 42, name: 'europe' }),
        overrideCreated(20, 30, 41, 71, 0),
        overrideCreated(20, 30, 40, 72, 1),
        overrideCreated(20, 30, 42, 73, 2),
        overrideCreated(20, 33, 40, 74, 0),
        overrideCreated(21, 30, 40, 75, 0),
        { type: 'SegmentDeleted', data: { projectId: 10, segmentId: 40 } },
      ]);
      expect([...state.segments.keys()]).toEqual([41, 42]);
      expect(state.environments.get(20)?.segmentOverrides.get(30)?.map((override) => override.segmentId)).toEqual([41, 42]);
      expect(state.environments.get(20)?.segmentOverrides.has(33)).toBe(false);
      expect(state.environments.get(21)?.segmentOverrides.size).toBe(0);
    });
  });
});
