import { foldEvents } from '@flagline/event-sourcing';
import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated, aSegmentCreated } from '../../testing/admin-event.builders';
import { ConflictError, NotFoundError, PreconditionFailedError, type DomainError } from '../shared/domain-error';
import type { ProjectCommand } from './project.commands';
import type { ProjectEvent } from './project.events';
import { projectDecider } from './project.decider';
import type { MultivariateOption, Project } from './project.state';

const NOW = '2026-02-01T10:00:00.000Z';

type CreateFeature = Extract<ProjectCommand, { type: 'CreateFeature' }>;

const withCode = (code: string) => (error: Error) => expect((error as DomainError).code).toBe(code);
const fold = (events: readonly ProjectEvent[]): Project => foldEvents(projectDecider, projectDecider.initialState(), events, 0);

const project = aProjectCreated();
const dev = anEnvironmentCreated();
const prod = anEnvironmentCreated({ environmentId: 21, name: 'Production', apiKey: 'client-key-prod' });
const tag: ProjectEvent = { type: 'TagCreated', data: { projectId: 10, tagId: 60, label: 'checkout', color: '#ff0000', description: '' } };
const otherTag: ProjectEvent = { type: 'TagCreated', data: { projectId: 10, tagId: 61, label: 'payments', color: '#00ff00', description: '' } };

const red: MultivariateOption = { optionId: 51, value: 'red', key: 'red', defaultAllocation: 30 };
const blue: MultivariateOption = { optionId: 52, value: 'blue', key: 'blue', defaultAllocation: 20 };

/** The feature's state ids in Development (20) and Production (21). */
const inBothEnvironments = (development: number, production: number) => [
  { environmentId: 20, featureStateId: development },
  { environmentId: 21, featureStateId: production },
];

/** A STANDARD feature with a state in both environments (31 in Development, 32 in Production). */
const checkout = aFeatureCreated({ environmentStates: inBothEnvironments(31, 32) });
/** A MULTIVARIATE feature with two options (30% red, 20% blue) and a state in both environments. */
const colour = aFeatureCreated({
  featureId: 50,
  name: 'button_colour',
  type: 'MULTIVARIATE',
  initialValue: 'grey',
  options: [red, blue],
  environmentStates: inBothEnvironments(55, 56),
});

const createFeature = (overrides: Partial<CreateFeature> = {}): CreateFeature => ({
  type: 'CreateFeature',
  featureId: 30,
  name: 'new_checkout',
  description: '',
  featureType: 'STANDARD',
  defaultEnabled: false,
  initialValue: null,
  tagIds: [],
  isServerKeyOnly: false,
  options: [],
  featureStateIds: [31, 32],
  now: NOW,
  ...overrides,
});

describe('Feature', () => {
  const spec = deciderSpecification(projectDecider);

  describe('when created', () => {
    const given = [project, dev, prod, tag];

    it('gets one state per environment, with the given ids in environment order', () => {
      spec(given)
        .when(createFeature({ description: 'New checkout flow', defaultEnabled: true, initialValue: 'v2', tagIds: [60], isServerKeyOnly: true }))
        .then(
          aFeatureCreated({
            description: 'New checkout flow',
            defaultEnabled: true,
            initialValue: 'v2',
            tagIds: [60],
            isServerKeyOnly: true,
            createdAt: NOW,
            environmentStates: inBothEnvironments(31, 32),
          }),
        );
    });

    it('gets no state in a project without environments', () => {
      spec([project]).when(createFeature({ featureStateIds: [] })).then(aFeatureCreated({ createdAt: NOW, environmentStates: [] }));
    });

    it('starts every environment state from its defaults', () => {
      const state = fold([...given, aFeatureCreated({ defaultEnabled: true, initialValue: 'v2', environmentStates: inBothEnvironments(31, 32) })]);
      expect(state.environments.get(20)?.featureStates.get(30)).toEqual({ featureStateId: 31, enabled: true, value: 'v2', allocations: [], revision: 4 });
      expect(state.environments.get(21)?.featureStates.get(30)).toEqual({ featureStateId: 32, enabled: true, value: 'v2', allocations: [], revision: 4 });
    });

    it('keeps each tag once', () => {
      spec(given)
        .when(createFeature({ tagIds: [60, 60] }))
        .then(aFeatureCreated({ tagIds: [60], createdAt: NOW, environmentStates: inBothEnvironments(31, 32) }));
    });

    it('is created as MULTIVARIATE with its options', () => {
      spec(given)
        .when(createFeature({ featureId: 50, name: 'button_colour', featureType: 'MULTIVARIATE', initialValue: 'grey', options: [red, blue], featureStateIds: [55, 56] }))
        .then(
          aFeatureCreated({
            featureId: 50,
            name: 'button_colour',
            type: 'MULTIVARIATE',
            initialValue: 'grey',
            options: [red, blue],
            createdAt: NOW,
            environmentStates: inBothEnvironments(55, 56),
          }),
        );
    });

    it('starts environment states of a MULTIVARIATE feature from the options\u2019 default allocations', () => {
      const state = fold([...given, colour]);
      expect(state.environments.get(21)?.featureStates.get(50)).toEqual({
        featureStateId: 56,
        enabled: false,
        value: 'grey',
        allocations: [
          { optionId: 51, percentage: 30 },
          { optionId: 52, percentage: 20 },
        ],
        revision: 4,
      });
    });

    it('rejects a name already taken', () => {
      spec([...given, checkout]).when(createFeature({ featureId: 33 })).thenThrows(ConflictError, withCode('FEATURE.NAME_TAKEN'));
    });

    it('rejects a name taken in another case', () => {
      spec([...given, checkout]).when(createFeature({ featureId: 33, name: 'New_Checkout' })).thenThrows(ConflictError, withCode('FEATURE.NAME_TAKEN'));
    });

    it('rejects a name taken by an archived feature', () => {
      spec([...given, checkout, { type: 'FeatureArchived', data: { projectId: 10, featureId: 30 } }])
        .when(createFeature({ featureId: 33 }))
        .thenThrows(ConflictError, withCode('FEATURE.NAME_TAKEN'));
    });

    it('accepts the name of a deleted feature', () => {
      spec([...given, checkout, { type: 'FeatureDeleted', data: { projectId: 10, featureId: 30 } }])
        .when(createFeature({ featureId: 33, featureStateIds: [34, 35] }))
        .then(aFeatureCreated({ featureId: 33, createdAt: NOW, environmentStates: inBothEnvironments(34, 35) }));
    });

    it('rejects options on a STANDARD feature', () => {
      spec(given).when(createFeature({ options: [red] })).thenThrows(ConflictError, withCode('FEATURE.OPTIONS_NEED_MULTIVARIATE'));
    });

    it('rejects two options with the same key', () => {
      spec(given)
        .when(createFeature({ featureType: 'MULTIVARIATE', options: [red, { ...blue, key: 'red' }] }))
        .thenThrows(ConflictError, withCode('MULTIVARIATE_OPTION.KEY_TAKEN'));
    });

    it('accepts several options without a key', () => {
      const options = [
        { ...red, key: null },
        { ...blue, key: null },
        { optionId: 53, value: 'green', key: '', defaultAllocation: 0 },
        { optionId: 54, value: 'black', key: '', defaultAllocation: 0 },
      ];
      spec([project])
        .when(createFeature({ featureType: 'MULTIVARIATE', options, featureStateIds: [] }))
        .then(aFeatureCreated({ type: 'MULTIVARIATE', options, createdAt: NOW, environmentStates: [] }));
    });

    it('rejects default allocations summing over 100', () => {
      spec(given)
        .when(createFeature({ featureType: 'MULTIVARIATE', options: [{ ...red, defaultAllocation: 60 }, { ...blue, defaultAllocation: 41 }] }))
        .thenThrows(ConflictError, withCode('ALLOCATION.INVALID'));
    });

    it('rejects a negative default allocation', () => {
      spec(given)
        .when(createFeature({ featureType: 'MULTIVARIATE', options: [{ ...red, defaultAllocation: -1 }] }))
        .thenThrows(ConflictError, withCode('ALLOCATION.INVALID'));
    });

    it('accepts default allocations summing to exactly 100', () => {
      const options = [
        { ...red, defaultAllocation: 33.3 },
        { ...blue, defaultAllocation: 33.3 },
        { optionId: 53, value: 'green', key: 'green', defaultAllocation: 33.4 },
      ];
      spec([project])
        .when(createFeature({ featureType: 'MULTIVARIATE', options, featureStateIds: [] }))
        .then(aFeatureCreated({ type: 'MULTIVARIATE', options, createdAt: NOW, environmentStates: [] }));
    });

    it('rejects a tag of another project', () => {
      spec(given).when(createFeature({ tagIds: [60, 99] })).thenThrows(ConflictError, withCode('TAG.NOT_IN_PROJECT'));
    });

    it('needs one state id per environment', () => {
      spec(given).when(createFeature({ featureStateIds: [31] })).thenThrows(Error, (error) => {
        expect(error.message).toBe('CreateFeature needs one feature state id per environment');
      });
    });
  });

  describe('when changed', () => {
    const given = [project, dev, prod, tag, otherTag, checkout];
    const ids = { projectId: 10, featureId: 30 };

    it('is renamed', () => {
      spec(given).when({ type: 'ChangeFeature', featureId: 30, name: 'checkout_v2' }).then([{ type: 'FeatureRenamed', data: { ...ids, name: 'checkout_v2' } }]);
    });

    it('is renamed to another case of its own name', () => {
      spec(given).when({ type: 'ChangeFeature', featureId: 30, name: 'New_Checkout' }).then([{ type: 'FeatureRenamed', data: { ...ids, name: 'New_Checkout' } }]);
    });

    it('rejects a rename to a name taken in another case', () => {
      spec([...given, aFeatureCreated({ featureId: 33, name: 'wallet', environmentStates: [] })])
        .when({ type: 'ChangeFeature', featureId: 30, name: 'WALLET' })
        .thenThrows(ConflictError, withCode('FEATURE.NAME_TAKEN'));
    });

    it('changes its description', () => {
      spec(given)
        .when({ type: 'ChangeFeature', featureId: 30, description: 'The new flow' })
        .then([{ type: 'FeatureDescriptionChanged', data: { ...ids, description: 'The new flow' } }]);
    });

    it('changes its tags', () => {
      spec(given).when({ type: 'ChangeFeature', featureId: 30, tagIds: [61, 60, 61] }).then([{ type: 'FeatureTagsChanged', data: { ...ids, tagIds: [61, 60] } }]);
    });

    it('clears its tags', () => {
      spec([...given, { type: 'FeatureTagsChanged', data: { ...ids, tagIds: [60] } }])
        .when({ type: 'ChangeFeature', featureId: 30, tagIds: [] })
        .then([{ type: 'FeatureTagsChanged', data: { ...ids, tagIds: [] } }]);
    });

    it('rejects a tag of another project', () => {
      spec(given).when({ type: 'ChangeFeature', featureId: 30, tagIds: [99] }).thenThrows(ConflictError, withCode('TAG.NOT_IN_PROJECT'));
    });

    it('changes its default enabled state, keeping the initial value', () => {
      spec(given)
        .when({ type: 'ChangeFeature', featureId: 30, defaultEnabled: true })
        .then([{ type: 'FeatureDefaultsChanged', data: { ...ids, defaultEnabled: true, initialValue: null } }]);
    });

    it('changes its initial value, keeping the default enabled state', () => {
      spec(given)
        .when({ type: 'ChangeFeature', featureId: 30, initialValue: 42 })
        .then([{ type: 'FeatureDefaultsChanged', data: { ...ids, defaultEnabled: false, initialValue: 42 } }]);
    });

    it('clears its initial value', () => {
      spec([...given, { type: 'FeatureDefaultsChanged', data: { ...ids, defaultEnabled: false, initialValue: 'v1' } }])
        .when({ type: 'ChangeFeature', featureId: 30, initialValue: null })
        .then([{ type: 'FeatureDefaultsChanged', data: { ...ids, defaultEnabled: false, initialValue: null } }]);
    });

    it('changes its visibility', () => {
      spec(given)
        .when({ type: 'ChangeFeature', featureId: 30, isServerKeyOnly: true })
        .then([{ type: 'FeatureVisibilityChanged', data: { ...ids, isServerKeyOnly: true } }]);
    });

    it('is archived', () => {
      spec(given).when({ type: 'ChangeFeature', featureId: 30, isArchived: true }).then([{ type: 'FeatureArchived', data: ids }]);
    });

    it('is unarchived', () => {
      spec([...given, { type: 'FeatureArchived', data: ids }])
        .when({ type: 'ChangeFeature', featureId: 30, isArchived: false })
        .then([{ type: 'FeatureUnarchived', data: ids }]);
    });

    it('does nothing when archived again', () => {
      spec([...given, { type: 'FeatureArchived', data: ids }]).when({ type: 'ChangeFeature', featureId: 30, isArchived: true }).thenNothingHappened();
    });

    it('changes several fields at once, one event each, in a fixed order', () => {
      spec(given)
        .when({
          type: 'ChangeFeature',
          featureId: 30,
          isArchived: true,
          isServerKeyOnly: true,
          initialValue: 'v2',
          tagIds: [60],
          description: 'The new flow',
          name: 'checkout_v2',
        })
        .then([
          { type: 'FeatureRenamed', data: { ...ids, name: 'checkout_v2' } },
          { type: 'FeatureDescriptionChanged', data: { ...ids, description: 'The new flow' } },
          { type: 'FeatureTagsChanged', data: { ...ids, tagIds: [60] } },
          { type: 'FeatureDefaultsChanged', data: { ...ids, defaultEnabled: false, initialValue: 'v2' } },
          { type: 'FeatureVisibilityChanged', data: { ...ids, isServerKeyOnly: true } },
          { type: 'FeatureArchived', data: ids },
        ]);
    });

    it('emits events only for the fields that change', () => {
      spec(given)
        .when({ type: 'ChangeFeature', featureId: 30, name: 'new_checkout', description: 'The new flow', tagIds: [], defaultEnabled: false, isArchived: false })
        .then([{ type: 'FeatureDescriptionChanged', data: { ...ids, description: 'The new flow' } }]);
    });

    it('does nothing when every given field is unchanged', () => {
      spec(given)
        .when({
          type: 'ChangeFeature',
          featureId: 30,
          name: 'new_checkout',
          description: '',
          tagIds: [],
          defaultEnabled: false,
          initialValue: null,
          isServerKeyOnly: false,
          isArchived: false,
        })
        .thenNothingHappened();
    });

    it('rejects an unknown feature as not found', () => {
      spec(given).when({ type: 'ChangeFeature', featureId: 99, name: 'x' }).thenThrows(NotFoundError, withCode('FEATURE.NOT_FOUND'));
    });

    it('changes when the expected revision is current', () => {
      spec([...given, { type: 'FeatureRenamed', data: { ...ids, name: 'checkout_v2' } }])
        .when({ type: 'ChangeFeature', featureId: 30, description: 'The new flow', expectedRevision: 6 })
        .then([{ type: 'FeatureDescriptionChanged', data: { ...ids, description: 'The new flow' } }]);
    });

    it('rejects a change at a stale revision', () => {
      spec([...given, { type: 'FeatureRenamed', data: { ...ids, name: 'checkout_v2' } }])
        .when({ type: 'ChangeFeature', featureId: 30, description: 'The new flow', expectedRevision: 5 })
        .thenThrows(PreconditionFailedError, (error) => {
          expect((error as DomainError).code).toBe('FEATURE.STALE_REVISION');
          expect((error as DomainError).details).toEqual({ expected: 5, actual: 6 });
        });
    });

    it('does not count changes to other features as its revisions', () => {
      spec([...given, aFeatureCreated({ featureId: 33, name: 'wallet', environmentStates: [] })])
        .when({ type: 'ChangeFeature', featureId: 30, isArchived: true, expectedRevision: 5 })
        .then([{ type: 'FeatureArchived', data: ids }]);
    });

    it('leaves existing environment states alone when its defaults change', () => {
      const state = fold([...given, { type: 'FeatureDefaultsChanged', data: { ...ids, defaultEnabled: true, initialValue: 'v2' } }]);
      expect(state.features.get(30)).toMatchObject({ defaultEnabled: true, initialValue: 'v2', revision: 6 });
      expect(state.environments.get(20)?.featureStates.get(30)).toEqual({ featureStateId: 31, enabled: false, value: null, allocations: [], revision: 5 });
    });
  });

  describe('when deleted', () => {
    const given = [project, dev, prod, checkout];

    it('is deleted', () => {
      spec(given).when({ type: 'DeleteFeature', featureId: 30 }).then({ type: 'FeatureDeleted', data: { projectId: 10, featureId: 30 } });
    });

    it('rejects an unknown feature as not found', () => {
      spec(given).when({ type: 'DeleteFeature', featureId: 99 }).thenThrows(NotFoundError, withCode('FEATURE.NOT_FOUND'));
    });

    it('rejects deleting it twice as not found', () => {
      spec([...given, { type: 'FeatureDeleted', data: { projectId: 10, featureId: 30 } }])
        .when({ type: 'DeleteFeature', featureId: 30 })
        .thenThrows(NotFoundError, withCode('FEATURE.NOT_FOUND'));
    });

    it('is deleted when the expected revision is current', () => {
      spec(given).when({ type: 'DeleteFeature', featureId: 30, expectedRevision: 3 }).then({ type: 'FeatureDeleted', data: { projectId: 10, featureId: 30 } });
    });

    it('rejects a deletion at a stale revision', () => {
      spec(given).when({ type: 'DeleteFeature', featureId: 30, expectedRevision: 2 }).thenThrows(PreconditionFailedError, withCode('FEATURE.STALE_REVISION'));
    });

    it('takes its states and segment overrides out of every environment', () => {
      const state = fold([
        ...given,
        aSegmentCreated(),
        {
          type: 'SegmentOverrideCreated',
          data: { projectId: 10, environmentId: 21, featureId: 30, segmentId: 40, featureStateId: 70, enabled: true, value: null, allocations: [], priority: 0 },
        },
        { type: 'FeatureDeleted', data: { projectId: 10, featureId: 30 } },
      ]);
      expect(state.features.size).toBe(0);
      expect(state.environments.get(20)?.featureStates.size).toBe(0);
      expect(state.environments.get(21)?.featureStates.size).toBe(0);
      expect(state.environments.get(21)?.segmentOverrides.size).toBe(0);
    });
  });
});

describe('Multivariate option', () => {
  const spec = deciderSpecification(projectDecider);
  const ids = { projectId: 10, featureId: 50 };
  const green: MultivariateOption = { optionId: 53, value: 'green', key: 'green', defaultAllocation: 10 };

  describe('when added', () => {
    const given = [project, dev, prod, colour];

    it('is added', () => {
      spec(given).when({ type: 'AddMultivariateOption', featureId: 50, option: green }).then({ type: 'MultivariateOptionAdded', data: { ...ids, option: green } });
    });

    it('joins every environment state with its default allocation', () => {
      const state = fold([...given, { type: 'MultivariateOptionAdded', data: { ...ids, option: green } }]);
      expect(state.features.get(50)?.options).toEqual([red, blue, green]);
      for (const [environmentId, featureStateId] of [
        [20, 55],
        [21, 56],
      ] as const) {
        expect(state.environments.get(environmentId)?.featureStates.get(50)).toEqual({
          featureStateId,
          enabled: false,
          value: 'grey',
          allocations: [
            { optionId: 51, percentage: 30 },
            { optionId: 52, percentage: 20 },
            { optionId: 53, percentage: 10 },
          ],
          revision: 4,
        });
      }
    });

    it('leaves the allocations of existing segment overrides alone', () => {
      const state = fold([
        ...given,
        aSegmentCreated(),
        {
          type: 'SegmentOverrideCreated',
          data: { projectId: 10, environmentId: 20, featureId: 50, segmentId: 40, featureStateId: 70, enabled: true, value: 'grey', allocations: [], priority: 0 },
        },
        { type: 'MultivariateOptionAdded', data: { ...ids, option: green } },
      ]);
      expect(state.environments.get(20)?.segmentOverrides.get(50)).toEqual([
        { segmentId: 40, featureStateId: 70, enabled: true, value: 'grey', allocations: [], revision: 5 },
      ]);
    });

    it('makes a STANDARD feature MULTIVARIATE', () => {
      spec([project, dev, checkout])
        .when({ type: 'AddMultivariateOption', featureId: 30, option: green })
        .then({ type: 'MultivariateOptionAdded', data: { projectId: 10, featureId: 30, option: green } });
      const state = fold([project, dev, checkout, { type: 'MultivariateOptionAdded', data: { projectId: 10, featureId: 30, option: green } }]);
      expect(state.features.get(30)).toMatchObject({ type: 'MULTIVARIATE', options: [green], revision: 3 });
    });

    it('rejects a key another option has', () => {
      spec(given)
        .when({ type: 'AddMultivariateOption', featureId: 50, option: { ...green, key: 'blue' } })
        .thenThrows(ConflictError, withCode('MULTIVARIATE_OPTION.KEY_TAKEN'));
    });

    it('rejects a default allocation that takes the defaults over 100', () => {
      spec(given)
        .when({ type: 'AddMultivariateOption', featureId: 50, option: { ...green, defaultAllocation: 51 } })
        .thenThrows(ConflictError, withCode('ALLOCATION.INVALID'));
    });

    it('rejects a default allocation for which an environment has no room', () => {
      spec([
        ...given,
        {
          type: 'FeatureStateChanged',
          data: {
            projectId: 10,
            environmentId: 21,
            featureId: 50,
            featureStateId: 56,
            enabled: true,
            value: 'grey',
            allocations: [
              { optionId: 51, percentage: 70 },
              { optionId: 52, percentage: 25 },
            ],
          },
        },
      ])
        .when({ type: 'AddMultivariateOption', featureId: 50, option: green })
        .thenThrows(ConflictError, (error) => {
          expect((error as DomainError).code).toBe('ALLOCATION.INVALID');
          expect(error.message).toContain('In environment "Production"');
        });
    });

    it('rejects an unknown feature as not found', () => {
      spec(given).when({ type: 'AddMultivariateOption', featureId: 99, option: green }).thenThrows(NotFoundError, withCode('FEATURE.NOT_FOUND'));
    });
  });

  describe('when changed', () => {
    const given = [project, dev, prod, colour];

    it('changes its value, keeping the other fields', () => {
      spec(given)
        .when({ type: 'ChangeMultivariateOption', featureId: 50, optionId: 51, value: 'crimson' })
        .then({ type: 'MultivariateOptionChanged', data: { ...ids, option: { ...red, value: 'crimson' } } });
    });

    it('clears its key', () => {
      spec(given)
        .when({ type: 'ChangeMultivariateOption', featureId: 50, optionId: 51, key: null })
        .then({ type: 'MultivariateOptionChanged', data: { ...ids, option: { ...red, key: null } } });
    });

    it('changes its default allocation without touching environment states', () => {
      spec(given)
        .when({ type: 'ChangeMultivariateOption', featureId: 50, optionId: 52, defaultAllocation: 70 })
        .then({ type: 'MultivariateOptionChanged', data: { ...ids, option: { ...blue, defaultAllocation: 70 } } });
      const state = fold([...given, { type: 'MultivariateOptionChanged', data: { ...ids, option: { ...blue, defaultAllocation: 70 } } }]);
      expect(state.features.get(50)).toMatchObject({ options: [red, { ...blue, defaultAllocation: 70 }], revision: 4 });
      expect(state.environments.get(20)?.featureStates.get(50)?.allocations).toEqual([
        { optionId: 51, percentage: 30 },
        { optionId: 52, percentage: 20 },
      ]);
    });

    it('does nothing when nothing changes', () => {
      spec(given).when({ type: 'ChangeMultivariateOption', featureId: 50, optionId: 51, value: 'red', key: 'red', defaultAllocation: 30 }).thenNothingHappened();
    });

    it('rejects a key another option has', () => {
      spec(given)
        .when({ type: 'ChangeMultivariateOption', featureId: 50, optionId: 51, key: 'blue' })
        .thenThrows(ConflictError, withCode('MULTIVARIATE_OPTION.KEY_TAKEN'));
    });

    it('rejects a default allocation that takes the defaults over 100', () => {
      spec(given)
        .when({ type: 'ChangeMultivariateOption', featureId: 50, optionId: 51, defaultAllocation: 81 })
        .thenThrows(ConflictError, withCode('ALLOCATION.INVALID'));
    });

    it('rejects an unknown option as not found', () => {
      spec(given)
        .when({ type: 'ChangeMultivariateOption', featureId: 50, optionId: 99, value: 'x' })
        .thenThrows(NotFoundError, withCode('MULTIVARIATE_OPTION.NOT_FOUND'));
    });

    it('rejects an option of another feature as not found', () => {
      spec([...given, checkout])
        .when({ type: 'ChangeMultivariateOption', featureId: 30, optionId: 51, value: 'x' })
        .thenThrows(NotFoundError, withCode('MULTIVARIATE_OPTION.NOT_FOUND'));
    });

    it('rejects an unknown feature as not found', () => {
      spec(given)
        .when({ type: 'ChangeMultivariateOption', featureId: 99, optionId: 51, value: 'x' })
        .thenThrows(NotFoundError, withCode('FEATURE.NOT_FOUND'));
    });
  });

  describe('when removed', () => {
    const given = [project, dev, prod, colour];

    it('is removed', () => {
      spec(given)
        .when({ type: 'RemoveMultivariateOption', featureId: 50, optionId: 51 })
        .then({ type: 'MultivariateOptionRemoved', data: { ...ids, optionId: 51 } });
    });

    it('rejects an unknown option as not found', () => {
      spec(given)
        .when({ type: 'RemoveMultivariateOption', featureId: 50, optionId: 99 })
        .thenThrows(NotFoundError, withCode('MULTIVARIATE_OPTION.NOT_FOUND'));
    });

    it('rejects removing it twice as not found', () => {
      spec([...given, { type: 'MultivariateOptionRemoved', data: { ...ids, optionId: 51 } }])
        .when({ type: 'RemoveMultivariateOption', featureId: 50, optionId: 51 })
        .thenThrows(NotFoundError, withCode('MULTIVARIATE_OPTION.NOT_FOUND'));
    });

    it('drops its allocation from environment states and segment overrides', () => {
      const state = fold([
        ...given,
        aSegmentCreated(),
        {
          type: 'SegmentOverrideCreated',
          data: {
            projectId: 10,
            environmentId: 20,
            featureId: 50,
            segmentId: 40,
            featureStateId: 70,
            enabled: true,
            value: 'grey',
            allocations: [
              { optionId: 51, percentage: 50 },
              { optionId: 52, percentage: 50 },
            ],
            priority: 0,
          },
        },
        { type: 'MultivariateOptionRemoved', data: { ...ids, optionId: 51 } },
      ]);
      expect(state.features.get(50)).toMatchObject({ type: 'MULTIVARIATE', options: [blue], revision: 6 });
      expect(state.environments.get(20)?.featureStates.get(50)).toEqual({
        featureStateId: 55,
        enabled: false,
        value: 'grey',
        allocations: [{ optionId: 52, percentage: 20 }],
        revision: 6,
      });
      expect(state.environments.get(21)?.featureStates.get(50)?.allocations).toEqual([{ optionId: 52, percentage: 20 }]);
      expect(state.environments.get(20)?.segmentOverrides.get(50)).toEqual([
        { segmentId: 40, featureStateId: 70, enabled: true, value: 'grey', allocations: [{ optionId: 52, percentage: 50 }], revision: 6 },
      ]);
    });
  });
});
