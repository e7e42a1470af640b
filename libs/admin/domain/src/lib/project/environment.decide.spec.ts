import { foldEvents, toEventList } from '@flagline/event-sourcing';
import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated, aSegmentCreated } from '../../testing/admin-event.builders';
import { NotFoundError, PreconditionFailedError, type DomainError } from '../shared/domain-error';
import { cloneSize } from './environment.decide';
import type { ProjectEvent } from './project.events';
import { projectDecider } from './project.decider';
import { DEFAULT_ENVIRONMENT_SETTINGS, type EnvironmentSettings, type Project } from './project.state';

const NOW = '2026-02-01T10:00:00.000Z';
const LATER = '2026-02-02T10:00:00.000Z';

const withCode = (code: string) => (error: Error) => expect((error as DomainError).code).toBe(code);
const fold = (events: readonly ProjectEvent[]): Project => foldEvents(projectDecider, projectDecider.initialState(), events, 0);

const project = aProjectCreated();
const dev = anEnvironmentCreated();
const checkout = aFeatureCreated({ featureId: 30, environmentStates: [{ environmentId: 20, featureStateId: 31 }] });
const colour = aFeatureCreated({
  featureId: 50,
  name: 'button_colour',
  type: 'MULTIVARIATE',
  initialValue: 'grey',
  options: [
    { optionId: 51, value: 'red', key: 'red', defaultAllocation: 30 },
    { optionId: 52, value: 'blue', key: 'blue', defaultAllocation: 20 },
  ],
  environmentStates: [{ environmentId: 20, featureStateId: 55 }],
});

const overrideCreated = (featureId: number, segmentId: number, featureStateId: number, priority: number, value: string): ProjectEvent => ({
  type: 'SegmentOverrideCreated',
  data: { projectId: 10, environmentId: 20, featureId, segmentId, featureStateId, enabled: true, value, allocations: [], priority },
});

const keyIssued: ProjectEvent = {
  type: 'ServerKeyIssued',
  data: { projectId: 10, environmentId: 20, keyId: 'k1', name: 'backend', keyHash: 'c'.repeat(64), prefix: 'ser.abc', createdAt: NOW },
};

describe('Environment', () => {
  const spec = deciderSpecification(projectDecider);

  describe('when created', () => {
    const given = [project, checkout, colour];

    it('gets a state for every feature, with the given ids in feature order', () => {
      spec(given)
        .when({ type: 'CreateEnvironment', environmentId: 21, name: 'Production', description: 'Live', apiKey: 'client-key-prod', settings: {}, featureStateIds: [32, 56], now: NOW })
        .then(
          anEnvironmentCreated({
            environmentId: 21,
            name: 'Production',
            description: 'Live',
            apiKey: 'client-key-prod',
            createdAt: NOW,
            featureStates: [
              { featureId: 30, featureStateId: 32 },
              { featureId: 50, featureStateId: 56 },
            ],
          }),
        );
    });

    it('gets the default settings with the given ones applied', () => {
      const settings: EnvironmentSettings = { ...DEFAULT_ENVIRONMENT_SETTINGS, hideDisabledFlags: true, allowClientTraits: false };
      spec([project])
        .when({
          type: 'CreateEnvironment',
          environmentId: 20,
          name: 'Development',
          description: '',
          apiKey: 'client-key-dev',
          settings: { hideDisabledFlags: true, allowClientTraits: false },
          featureStateIds: [],
          now: NOW,
        })
        .then(anEnvironmentCreated({ settings, createdAt: NOW }));
    });

    it('starts every feature state from the feature defaults', () => {
      const state = fold([
        ...given,
        anEnvironmentCreated({ environmentId: 21, featureStates: [{ featureId: 30, featureStateId: 32 }, { featureId: 50, featureStateId: 56 }] }),
      ]);
      expect(state.environments.get(21)?.featureStates).toEqual(
        new Map([
          [30, { featureStateId: 32, enabled: false, value: null, allocations: [], revision: 3 }],
          [
            50,
            {
              featureStateId: 56,
              enabled: false,
              value: 'grey',
              allocations: [
                { optionId: 51, percentage: 30 },
                { optionId: 52, percentage: 20 },
              ],
              revision: 3,
            },
          ],
        ]),
      );
    });

    it('needs one state id per feature', () => {
      spec(given)
        .when({ type: 'CreateEnvironment', environmentId: 21, name: 'Production', description: '', apiKey: 'client-key-prod', settings: {}, featureStateIds: [32], now: NOW })
        .thenThrows(Error, (error) => expect(error.message).toBe('CreateEnvironment needs one feature state id per feature'));
    });

    it('rejects a missing project as not found', () => {
      spec([])
        .when({ type: 'CreateEnvironment', environmentId: 20, name: 'Development', description: '', apiKey: 'client-key-dev', settings: {}, featureStateIds: [], now: NOW })
        .thenThrows(NotFoundError, withCode('PROJECT.NOT_FOUND'));
    });
  });

  describe('when cloned', () => {
    const sourceSettings: EnvironmentSettings = { ...DEFAULT_ENVIRONMENT_SETTINGS, hideSensitiveData: true };
    const given = [
      project,
      anEnvironmentCreated({ description: 'Sandbox', settings: sourceSettings }),
      checkout,
      colour,
      aSegmentCreated({ segmentId: 40 }),
      aSegmentCreated({ segmentId: 41, name: 'staff' }),
      {
        type: 'FeatureStateChanged',
        data: { projectId: 10, environmentId: 20, featureId: 30, featureStateId: 31, enabled: true, value: 'v2', allocations: [] },
      } satisfies ProjectEvent,
      overrideCreated(50, 40, 80, 0, 'beta'),
      overrideCreated(30, 40, 81, 0, 'checkout-beta'),
      overrideCreated(50, 41, 82, 0, 'staff'),
      keyIssued,
    ];

    it('needs one new id per feature state and per segment override', () => {
      expect(cloneSize(fold(given), 20)).toBe(5);
      expect(cloneSize(fold(given), 99)).toBe(0);
    });

    it('copies states, then overrides feature by feature in priority order, with new ids', () => {
      spec(given)
        .when({ type: 'CloneEnvironment', sourceEnvironmentId: 20, environmentId: 21, name: 'Staging', apiKey: 'client-key-staging', featureStateIds: [90, 91, 92, 93, 94], now: LATER })
        .then({
          type: 'EnvironmentCloned',
          data: {
            projectId: 10,
            environmentId: 21,
            sourceEnvironmentId: 20,
            name: 'Staging',
            description: 'Sandbox',
            apiKey: 'client-key-staging',
            settings: sourceSettings,
            createdAt: LATER,
            featureStates: [
              { featureId: 30, featureStateId: 90, enabled: true, value: 'v2', allocations: [] },
              {
                featureId: 50,
                featureStateId: 91,
                enabled: false,
                value: 'grey',
                allocations: [
                  { optionId: 51, percentage: 30 },
                  { optionId: 52, percentage: 20 },
                ],
              },
            ],
            segmentOverrides: [
              { featureId: 50, segmentId: 41, featureStateId: 92, enabled: true, value: 'staff', allocations: [] },
              { featureId: 50, segmentId: 40, featureStateId: 93, enabled: true, value: 'beta', allocations: [] },
              { featureId: 30, segmentId: 40, featureStateId: 94, enabled: true, value: 'checkout-beta', allocations: [] },
            ],
          },
        });
    });

    it('takes the given description over the source one', () => {
      spec([project, dev])
        .when({ type: 'CloneEnvironment', sourceEnvironmentId: 20, environmentId: 21, name: 'Staging', description: 'Pre-release', apiKey: 'client-key-staging', featureStateIds: [], now: LATER })
        .then({
          type: 'EnvironmentCloned',
          data: {
            projectId: 10,
            environmentId: 21,
            sourceEnvironmentId: 20,
            name: 'Staging',
            description: 'Pre-release',
            apiKey: 'client-key-staging',
            settings: DEFAULT_ENVIRONMENT_SETTINGS,
            createdAt: LATER,
            featureStates: [],
            segmentOverrides: [],
          },
        });
    });

    it('folds into an environment with the copied states and override order, and no server keys', () => {
      const events = [...given];
      const cloned = projectDecider.decide(
        { type: 'CloneEnvironment', sourceEnvironmentId: 20, environmentId: 21, name: 'Staging', apiKey: 'client-key-staging', featureStateIds: [90, 91, 92, 93, 94], now: LATER },
        fold(events),
      );
      const state = fold([...events, ...toEventList(cloned)]);
      const clone = state.environments.get(21);
      expect(clone?.serverKeys.size).toBe(0);
      expect(clone?.revision).toBe(11);
      expect(clone?.featureStates.get(30)).toEqual({ featureStateId: 90, enabled: true, value: 'v2', allocations: [], revision: 11 });
      expect(clone?.segmentOverrides.get(50)).toEqual([
        { segmentId: 41, featureStateId: 92, enabled: true, value: 'staff', allocations: [], revision: 11 },
        { segmentId: 40, featureStateId: 93, enabled: true, value: 'beta', allocations: [], revision: 11 },
      ]);
      expect(clone?.segmentOverrides.get(30)).toEqual([{ segmentId: 40, featureStateId: 94, enabled: true, value: 'checkout-beta', allocations: [], revision: 11 }]);
    });

    it('rejects an unknown source as not found', () => {
      spec(given)
        .when({ type: 'CloneEnvironment', sourceEnvironmentId: 99, environmentId: 21, name: 'Staging', apiKey: 'client-key-staging', featureStateIds: [], now: LATER })
        .thenThrows(NotFoundError, withCode('ENVIRONMENT.NOT_FOUND'));
    });

    it('needs one new id per copied state', () => {
      spec(given)
        .when({ type: 'CloneEnvironment', sourceEnvironmentId: 20, environmentId: 21, name: 'Staging', apiKey: 'client-key-staging', featureStateIds: [90, 91], now: LATER })
        .thenThrows(Error, (error) => expect(error.message).toBe('CloneEnvironment needs one id per copied state'));
    });
  });

  describe('when changed', () => {
    const given = [project, anEnvironmentCreated({ description: 'Sandbox' })];
    const ids = { projectId: 10, environmentId: 20 };

    it('is renamed, keeping its description', () => {
      spec(given)
        .when({ type: 'ChangeEnvironment', environmentId: 20, name: 'Dev' })
        .then([{ type: 'EnvironmentRenamed', data: { ...ids, name: 'Dev', description: 'Sandbox' } }]);
    });

    it('changes its description, keeping its name', () => {
      spec(given)
        .when({ type: 'ChangeEnvironment', environmentId: 20, description: 'Local work' })
        .then([{ type: 'EnvironmentRenamed', data: { ...ids, name: 'Development', description: 'Local work' } }]);
    });

    it('changes the given settings, keeping the others', () => {
      spec(given)
        .when({ type: 'ChangeEnvironment', environmentId: 20, settings: { allowClientTraits: false } })
        .then([{ type: 'EnvironmentSettingsChanged', data: { ...ids, settings: { ...DEFAULT_ENVIRONMENT_SETTINGS, allowClientTraits: false } } }]);
    });

    it('renames and changes settings at once', () => {
      spec(given)
        .when({ type: 'ChangeEnvironment', environmentId: 20, settings: { hideDisabledFlags: false }, name: 'Dev' })
        .then([
          { type: 'EnvironmentRenamed', data: { ...ids, name: 'Dev', description: 'Sandbox' } },
          { type: 'EnvironmentSettingsChanged', data: { ...ids, settings: { ...DEFAULT_ENVIRONMENT_SETTINGS, hideDisabledFlags: false } } },
        ]);
    });

    it('does nothing when nothing changes', () => {
      spec(given)
        .when({ type: 'ChangeEnvironment', environmentId: 20, name: 'Development', description: 'Sandbox', settings: { hideDisabledFlags: null, allowClientTraits: true } })
        .thenNothingHappened();
    });

    it('rejects an unknown environment as not found', () => {
      spec(given).when({ type: 'ChangeEnvironment', environmentId: 99, name: 'Dev' }).thenThrows(NotFoundError, withCode('ENVIRONMENT.NOT_FOUND'));
    });

    it('changes when the expected revision is current', () => {
      spec([...given, { type: 'EnvironmentRenamed', data: { ...ids, name: 'Dev', description: 'Sandbox' } }])
        .when({ type: 'ChangeEnvironment', environmentId: 20, name: 'Development', expectedRevision: 2 })
        .then([{ type: 'EnvironmentRenamed', data: { ...ids, name: 'Development', description: 'Sandbox' } }]);
    });

    it('rejects a change at a stale revision', () => {
      spec([...given, { type: 'EnvironmentSettingsChanged', data: { ...ids, settings: DEFAULT_ENVIRONMENT_SETTINGS } }])
        .when({ type: 'ChangeEnvironment', environmentId: 20, name: 'Dev', expectedRevision: 1 })
        .thenThrows(PreconditionFailedError, (error) => {
          expect((error as DomainError).code).toBe('ENVIRONMENT.STALE_REVISION');
          expect((error as DomainError).details).toEqual({ expected: 1, actual: 2 });
        });
    });

    it('does not count server keys as its revisions', () => {
      spec([...given, keyIssued])
        .when({ type: 'ChangeEnvironment', environmentId: 20, name: 'Dev', expectedRevision: 1 })
        .then([{ type: 'EnvironmentRenamed', data: { ...ids, name: 'Dev', description: 'Sandbox' } }]);
    });
  });

  describe('when deleted', () => {
    const given = [project, dev, checkout];

    it('is deleted', () => {
      spec(given).when({ type: 'DeleteEnvironment', environmentId: 20 }).then({ type: 'EnvironmentDeleted', data: { projectId: 10, environmentId: 20 } });
    });

    it('rejects an unknown environment as not found', () => {
      spec(given).when({ type: 'DeleteEnvironment', environmentId: 99 }).thenThrows(NotFoundError, withCode('ENVIRONMENT.NOT_FOUND'));
    });

    it('rejects deleting it twice as not found', () => {
      spec([...given, { type: 'EnvironmentDeleted', data: { projectId: 10, environmentId: 20 } }])
        .when({ type: 'DeleteEnvironment', environmentId: 20 })
        .thenThrows(NotFoundError, withCode('ENVIRONMENT.NOT_FOUND'));
    });

    it('is deleted when the expected revision is current', () => {
      spec(given)
        .when({ type: 'DeleteEnvironment', environmentId: 20, expectedRevision: 1 })
        .then({ type: 'EnvironmentDeleted', data: { projectId: 10, environmentId: 20 } });
    });

    it('rejects a deletion at a stale revision', () => {
      spec(given).when({ type: 'DeleteEnvironment', environmentId: 20, expectedRevision: 2 }).thenThrows(PreconditionFailedError, withCode('ENVIRONMENT.STALE_REVISION'));
    });

    it('no longer needs a state id for new features', () => {
      spec([...given, { type: 'EnvironmentDeleted', data: { projectId: 10, environmentId: 20 } }])
        .when({
          type: 'CreateFeature',
          featureId: 33,
          name: 'wallet',
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
        .then(aFeatureCreated({ featureId: 33, name: 'wallet', createdAt: NOW, environmentStates: [] }));
    });
  });
});

describe('Server key', () => {
  const spec = deciderSpecification(projectDecider);
  const given = [project, dev];

  it('is issued', () => {
    spec(given)
      .when({ type: 'IssueServerKey', environmentId: 20, keyId: 'k1', name: 'backend', keyHash: 'c'.repeat(64), prefix: 'ser.abc', createdAt: NOW })
      .then(keyIssued);
  });

  it('rejects issuing in an unknown environment as not found', () => {
    spec(given)
      .when({ type: 'IssueServerKey', environmentId: 99, keyId: 'k1', name: 'backend', keyHash: 'c'.repeat(64), prefix: 'ser.abc', createdAt: NOW })
      .thenThrows(NotFoundError, withCode('ENVIRONMENT.NOT_FOUND'));
  });

  it('is revoked', () => {
    spec([...given, keyIssued])
      .when({ type: 'RevokeServerKey', environmentId: 20, keyId: 'k1', now: LATER })
      .then({ type: 'ServerKeyRevoked', data: { projectId: 10, environmentId: 20, keyId: 'k1', revokedAt: LATER } });
  });

  it('rejects revoking an unknown key as not found', () => {
    spec([...given, keyIssued]).when({ type: 'RevokeServerKey', environmentId: 20, keyId: 'k2', now: LATER }).thenThrows(NotFoundError, withCode('API_KEY.NOT_FOUND'));
  });

  it('rejects revoking a key of another environment as not found', () => {
    spec([...given, anEnvironmentCreated({ environmentId: 21, name: 'Production', apiKey: 'client-key-prod' }), keyIssued])
      .when({ type: 'RevokeServerKey', environmentId: 21, keyId: 'k1', now: LATER })
      .thenThrows(NotFoundError, withCode('API_KEY.NOT_FOUND'));
  });

  it('rejects revoking a key twice as not found', () => {
    spec([...given, keyIssued, { type: 'ServerKeyRevoked', data: { projectId: 10, environmentId: 20, keyId: 'k1', revokedAt: NOW } }])
      .when({ type: 'RevokeServerKey', environmentId: 20, keyId: 'k1', now: LATER })
      .thenThrows(NotFoundError, withCode('API_KEY.NOT_FOUND'));
  });

  it('is kept by the environment with its revocation time', () => {
    const state = fold([...given, keyIssued, { type: 'ServerKeyRevoked', data: { projectId: 10, environmentId: 20, keyId: 'k1', revokedAt: LATER } }]);
    expect(new Map(state.environments.get(20)?.serverKeys)).toEqual(
      new Map([['k1', { keyId: 'k1', name: 'backend', keyHash: 'c'.repeat(64), prefix: 'ser.abc', createdAt: NOW, revokedAt: LATER }]]),
    );
  });
});
