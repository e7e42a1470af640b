import { foldEvents } from '@flagline/event-sourcing';
import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated } from '../../testing/admin-event.builders';
import { ConflictError, NotFoundError, PreconditionFailedError, type DomainError } from '../shared/domain-error';
import type { ProjectEvent } from './project.events';
import { projectDecider } from './project.decider';
import { toProjectStreamName, type Project } from './project.state';

const NOW = '2026-02-01T10:00:00.000Z';

const withCode = (code: string) => (error: Error) => expect((error as DomainError).code).toBe(code);
const fold = (events: readonly ProjectEvent[]): Project => foldEvents(projectDecider, projectDecider.initialState(), events, 0);

const tagCreated = (tagId: number, label: string): ProjectEvent => ({
  type: 'TagCreated',
  data: { projectId: 10, tagId, label, color: '#ff0000', description: '' },
});

describe('Project', () => {
  const spec = deciderSpecification(projectDecider);

  it('is stored in the stream project-<id>', () => {
    expect(toProjectStreamName(10)).toBe('project-10');
  });

  describe('when absent', () => {
    it('is created', () => {
      spec([])
        .when({ type: 'CreateProject', projectId: 10, organisationId: 1, name: 'Web', hideDisabledFlags: true, now: NOW })
        .then({ type: 'ProjectCreated', data: { projectId: 10, organisationId: 1, name: 'Web', hideDisabledFlags: true, createdAt: NOW } });
    });

    it('rejects a settings change as not found', () => {
      spec([]).when({ type: 'ChangeProjectSettings', name: 'Mobile' }).thenThrows(NotFoundError, withCode('PROJECT.NOT_FOUND'));
    });

    it('rejects a deletion as not found', () => {
      spec([]).when({ type: 'DeleteProject' }).thenThrows(NotFoundError, withCode('PROJECT.NOT_FOUND'));
    });

    it('rejects creating a tag as not found', () => {
      spec([])
        .when({ type: 'CreateTag', tagId: 60, label: 'checkout', color: '#ff0000', description: '' })
        .thenThrows(NotFoundError, withCode('PROJECT.NOT_FOUND'));
    });
  });

  describe('when created', () => {
    const given = [aProjectCreated()];

    it('rejects creating it again as a conflict', () => {
      spec(given)
        .when({ type: 'CreateProject', projectId: 10, organisationId: 1, name: 'Web', hideDisabledFlags: false, now: NOW })
        .thenThrows(ConflictError, withCode('PROJECT.EXISTS'));
    });

    it('is renamed, keeping the other settings', () => {
      spec(given)
        .when({ type: 'ChangeProjectSettings', name: 'Mobile' })
        .then({ type: 'ProjectSettingsChanged', data: { projectId: 10, name: 'Mobile', hideDisabledFlags: false } });
    });

    it('hides disabled flags, keeping the name', () => {
      spec(given)
        .when({ type: 'ChangeProjectSettings', hideDisabledFlags: true })
        .then({ type: 'ProjectSettingsChanged', data: { projectId: 10, name: 'Web', hideDisabledFlags: true } });
    });

    it('does nothing when the settings are unchanged', () => {
      spec(given).when({ type: 'ChangeProjectSettings', name: 'Web', hideDisabledFlags: false }).thenNothingHappened();
    });

    it('does nothing when no setting is given', () => {
      spec(given).when({ type: 'ChangeProjectSettings' }).thenNothingHappened();
    });

    it('changes settings when the expected revision is current', () => {
      spec(given)
        .when({ type: 'ChangeProjectSettings', name: 'Mobile', expectedRevision: 0 })
        .then({ type: 'ProjectSettingsChanged', data: { projectId: 10, name: 'Mobile', hideDisabledFlags: false } });
    });

    it('rejects a settings change at a stale revision', () => {
      spec([...given, { type: 'ProjectSettingsChanged', data: { projectId: 10, name: 'Mobile', hideDisabledFlags: false } }])
        .when({ type: 'ChangeProjectSettings', name: 'Apps', expectedRevision: 0 })
        .thenThrows(PreconditionFailedError, (error) => {
          expect((error as DomainError).code).toBe('PROJECT.STALE_REVISION');
          expect((error as DomainError).details).toEqual({ expected: 0, actual: 1 });
        });
    });

    it('is deleted, listing its environments', () => {
      spec([...given, anEnvironmentCreated(), anEnvironmentCreated({ environmentId: 21, name: 'Production', apiKey: 'client-key-prod' })])
        .when({ type: 'DeleteProject' })
        .then({ type: 'ProjectDeleted', data: { projectId: 10, environmentIds: [20, 21] } });
    });

    it('is deleted without environments', () => {
      spec(given).when({ type: 'DeleteProject' }).then({ type: 'ProjectDeleted', data: { projectId: 10, environmentIds: [] } });
    });

    it('does not list deleted environments when deleted', () => {
      spec([
        ...given,
        anEnvironmentCreated(),
        anEnvironmentCreated({ environmentId: 21, name: 'Production', apiKey: 'client-key-prod' }),
        { type: 'EnvironmentDeleted', data: { projectId: 10, environmentId: 20 } },
      ])
        .when({ type: 'DeleteProject' })
        .then({ type: 'ProjectDeleted', data: { projectId: 10, environmentIds: [21] } });
    });

    it('is deleted when the expected revision is current', () => {
      spec(given).when({ type: 'DeleteProject', expectedRevision: 0 }).then({ type: 'ProjectDeleted', data: { projectId: 10, environmentIds: [] } });
    });

    it('rejects a deletion at a stale revision', () => {
      spec(given).when({ type: 'DeleteProject', expectedRevision: 5 }).thenThrows(PreconditionFailedError, withCode('PROJECT.STALE_REVISION'));
    });
  });

  describe('when deleted', () => {
    const given = [aProjectCreated(), { type: 'ProjectDeleted', data: { projectId: 10, environmentIds: [] } } satisfies ProjectEvent];

    it('rejects a settings change as not found', () => {
      spec(given).when({ type: 'ChangeProjectSettings', name: 'Mobile' }).thenThrows(NotFoundError, withCode('PROJECT.NOT_FOUND'));
    });

    it('rejects deleting it again as not found', () => {
      spec(given).when({ type: 'DeleteProject' }).thenThrows(NotFoundError, withCode('PROJECT.NOT_FOUND'));
    });

    it('rejects creating it again as a conflict', () => {
      spec(given)
        .when({ type: 'CreateProject', projectId: 10, organisationId: 1, name: 'Web', hideDisabledFlags: false, now: NOW })
        .thenThrows(ConflictError, withCode('PROJECT.EXISTS'));
    });

    it('rejects creating a feature as not found', () => {
      spec(given)
        .when({
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
          featureStateIds: [],
          now: NOW,
        })
        .thenThrows(NotFoundError, withCode('PROJECT.NOT_FOUND'));
    });
  });
});

describe('Tag', () => {
  const spec = deciderSpecification(projectDecider);
  const given = [aProjectCreated(), tagCreated(60, 'checkout')];

  it('is created', () => {
    spec([aProjectCreated()])
      .when({ type: 'CreateTag', tagId: 60, label: 'checkout', color: '#ff0000', description: 'Checkout team' })
      .then({ type: 'TagCreated', data: { projectId: 10, tagId: 60, label: 'checkout', color: '#ff0000', description: 'Checkout team' } });
  });

  describe('when changed', () => {
    it('changes the given fields and keeps the others', () => {
      spec(given)
        .when({ type: 'ChangeTag', tagId: 60, color: '#00ff00' })
        .then({ type: 'TagChanged', data: { projectId: 10, tagId: 60, label: 'checkout', color: '#00ff00', description: '' } });
    });

    it('changes every field at once', () => {
      spec(given)
        .when({ type: 'ChangeTag', tagId: 60, label: 'payments', color: '#0000ff', description: 'Payments team' })
        .then({ type: 'TagChanged', data: { projectId: 10, tagId: 60, label: 'payments', color: '#0000ff', description: 'Payments team' } });
    });

    it('does nothing when nothing changes', () => {
      spec(given).when({ type: 'ChangeTag', tagId: 60, label: 'checkout', color: '#ff0000' }).thenNothingHappened();
    });

    it('rejects an unknown tag as not found', () => {
      spec(given).when({ type: 'ChangeTag', tagId: 61, label: 'x' }).thenThrows(NotFoundError, withCode('TAG.NOT_FOUND'));
    });

    it('changes when the expected revision is current', () => {
      spec(given)
        .when({ type: 'ChangeTag', tagId: 60, label: 'payments', expectedRevision: 1 })
        .then({ type: 'TagChanged', data: { projectId: 10, tagId: 60, label: 'payments', color: '#ff0000', description: '' } });
    });

    it('rejects a change at a stale revision', () => {
      spec(given)
        .when({ type: 'ChangeTag', tagId: 60, label: 'payments', expectedRevision: 0 })
        .thenThrows(PreconditionFailedError, (error) => {
          expect((error as DomainError).code).toBe('TAG.STALE_REVISION');
          expect((error as DomainError).details).toEqual({ expected: 0, actual: 1 });
        });
    });
  });

  describe('when deleted', () => {
    it('is deleted', () => {
      spec(given).when({ type: 'DeleteTag', tagId: 60 }).then({ type: 'TagDeleted', data: { projectId: 10, tagId: 60 } });
    });

    it('rejects an unknown tag as not found', () => {
      spec(given).when({ type: 'DeleteTag', tagId: 61 }).thenThrows(NotFoundError, withCode('TAG.NOT_FOUND'));
    });

    it('rejects deleting it twice as not found', () => {
      spec([...given, { type: 'TagDeleted', data: { projectId: 10, tagId: 60 } }])
        .when({ type: 'DeleteTag', tagId: 60 })
        .thenThrows(NotFoundError, withCode('TAG.NOT_FOUND'));
    });

    it('is dropped from the features that carried it', () => {
      const state = fold([
        aProjectCreated(),
        tagCreated(60, 'checkout'),
        tagCreated(61, 'payments'),
        aFeatureCreated({ featureId: 30, name: 'new_checkout', tagIds: [60, 61], environmentStates: [] }),
        aFeatureCreated({ featureId: 35, name: 'wallet', tagIds: [61], environmentStates: [] }),
        { type: 'TagDeleted', data: { projectId: 10, tagId: 60 } },
      ]);
      expect([...state.tags.keys()]).toEqual([61]);
      expect(state.features.get(30)?.tagIds).toEqual([61]);
      expect(state.features.get(35)?.tagIds).toEqual([61]);
    });

    it('can no longer be given to a feature', () => {
      spec([...given, { type: 'TagDeleted', data: { projectId: 10, tagId: 60 } }, aFeatureCreated({ environmentStates: [] })])
        .when({ type: 'ChangeFeature', featureId: 30, tagIds: [60] })
        .thenThrows(ConflictError, withCode('TAG.NOT_IN_PROJECT'));
    });
  });
});
