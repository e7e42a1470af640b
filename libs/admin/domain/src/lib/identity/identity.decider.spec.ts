import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { FloatNumber } from '@flagline/python-compat';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, NotFoundError, PreconditionFailedError, type DomainError } from '../shared/domain-error';
import type { IdentityCommand } from './identity.commands';
import type { IdentityEvent } from './identity.events';
import { upcastIdentityEvent, type StoredIdentityEvent } from './identity.events.v1';
import { identityDecider, identityIdFor, toIdentityStreamName } from './identity.decider';

const NOW = '2026-02-01T10:00:00.000Z';
const LATER = '2026-02-02T10:00:00.000Z';

const withCode = (code: string) => (error: Error) => expect((error as DomainError).code).toBe(code);

/** Every identity event names the identity by id, project, environment and identifier. */
const address = { identityId: identityIdFor(20, 'alice'), projectId: 10, environmentId: 20, identifier: 'alice' };

const createdWith = (traits: Record<string, string | number | boolean>, floats: string[] = [], createdAt = NOW): IdentityEvent => ({
  type: 'IdentityCreated',
  data: { ...address, schemaVersion: 2, createdAt, traits, floats },
});
const created = createdWith({});
const traitsChanged = (set: Record<string, string | number | boolean>, removed: string[] = [], floats: string[] = []): IdentityEvent => ({
  type: 'IdentityTraitsChanged',
  data: { ...address, schemaVersion: 2, set, floats, removed },
});
const deleted: IdentityEvent = { type: 'IdentityDeleted', data: address };
const overrideSet = (featureStateUuid: string, enabled: boolean, value: string | null): IdentityEvent => ({
  type: 'IdentityOverrideSet',
  data: { ...address, featureId: 30, featureStateUuid, enabled, value, allocations: [] },
});

const record = (traits: Extract<IdentityCommand, { type: 'RecordIdentity' }>['traits']): IdentityCommand => ({
  type: 'RecordIdentity',
  ...address,
  traits,
  now: LATER,
});

describe('Identity', () => {
  const spec = deciderSpecification(identityDecider);

  describe('id', () => {
    it('is the same for the same environment and identifier', () => {
      expect(identityIdFor(20, 'alice')).toBe(identityIdFor(20, 'alice'));
    });

    it('is 32 hexadecimal characters', () => {
      expect(identityIdFor(20, 'alice')).toMatch(/^[0-9a-f]{32}$/);
    });

    it('differs per environment', () => {
      expect(identityIdFor(21, 'alice')).not.toBe(identityIdFor(20, 'alice'));
    });

    it('differs per identifier', () => {
      expect(identityIdFor(20, 'bob')).not.toBe(identityIdFor(20, 'alice'));
    });

    it('does not mix environment and identifier digits', () => {
      expect(identityIdFor(1, '23')).not.toBe(identityIdFor(12, '3'));
    });

    it('names the stream identity-<id>', () => {
      expect(toIdentityStreamName('abc')).toBe('identity-abc');
    });
  });

  describe('when created', () => {
    it('is created without traits', () => {
      spec([]).when({ type: 'CreateIdentity', ...address, traits: {}, now: NOW }).then([created]);
    });

    it('is created with its traits, leaving out null ones', () => {
      spec([])
        .when({ type: 'CreateIdentity', ...address, traits: { plan: 'pro', age: 42, beta: true, gone: null }, now: NOW })
        .then(createdWith({ plan: 'pro', age: 42, beta: true }));
    });

    it('is created without traits when every trait is null', () => {
      spec([]).when({ type: 'CreateIdentity', ...address, traits: { gone: null }, now: NOW }).then([created]);
    });

    it('rejects an identity that exists', () => {
      spec([created]).when({ type: 'CreateIdentity', ...address, traits: {}, now: LATER }).thenThrows(ConflictError, withCode('IDENTITY.EXISTS'));
    });

    it('is created again after its deletion', () => {
      spec([created, deleted])
        .when({ type: 'CreateIdentity', ...address, traits: { plan: 'free' }, now: LATER })
        .then(createdWith({ plan: 'free' }, [], LATER));
    });
  });

  describe('when recorded (SDK identify)', () => {
    it('creates an absent identity with its traits', () => {
      spec([])
        .when(record({ plan: 'pro', gone: null }))
        .then(createdWith({ plan: 'pro' }, [], LATER));
    });

    it('does nothing when the traits are unchanged', () => {
      spec([created, traitsChanged({ plan: 'pro', age: 42 })]).when(record({ plan: 'pro', age: 42 })).thenNothingHappened();
    });

    it('does nothing when no trait is given', () => {
      spec([created, traitsChanged({ plan: 'pro' })]).when(record({})).thenNothingHappened();
    });

    it('records only the traits that change, keeping unlisted ones', () => {
      spec([created, traitsChanged({ plan: 'pro', age: 42, country: 'FR' })])
        .when(record({ plan: 'pro', age: 43, beta: true }))
        .then(traitsChanged({ age: 43, beta: true }));
    });

    it('removes a trait given as null', () => {
      spec([created, traitsChanged({ plan: 'pro', age: 42 })]).when(record({ plan: 'pro', age: null })).then(traitsChanged({}, ['age']));
    });

    it('ignores a null trait the identity does not have', () => {
      spec([created, traitsChanged({ plan: 'pro' })]).when(record({ age: null })).thenNothingHappened();
    });

    it('tells a trait value from the same value of another type', () => {
      spec([created, traitsChanged({ age: 42 })]).when(record({ age: '42' })).then(traitsChanged({ age: '42' }));
    });

    it('stores traits named like Object members ("__proto__", "constructor") as plain traits', () => {
      const traits: Record<string, string | number> = {};
      Object.defineProperty(traits, '__proto__', { value: 'x', enumerable: true, writable: true, configurable: true });
      traits['constructor'] = 1;
      const createdEvent = identityDecider.decide(record(traits), identityDecider.initialState()) as IdentityEvent;
      const set = (createdEvent as Extract<IdentityEvent, { type: 'IdentityCreated' }>).data.traits;
      expect(Object.getPrototypeOf(set)).toBe(Object.prototype);
      expect(Object.entries(set)).toEqual([['__proto__', 'x'], ['constructor', 1]]);
      const state = identityDecider.evolve(identityDecider.initialState(), createdEvent, 0);
      expect([...state.traits]).toEqual([['__proto__', 'x'], ['constructor', 1]]);
      const changed = identityDecider.decide(record({ constructor: 2 }), state) as IdentityEvent;
      expect([...identityDecider.evolve(state, changed, 1).traits]).toEqual([['__proto__', 'x'], ['constructor', 2]]);
    });

    it('creates the identity again after its deletion', () => {
      spec([created, traitsChanged({ plan: 'pro' }), deleted])
        .when(record({ plan: 'pro' }))
        .then(createdWith({ plan: 'pro' }, [], LATER));
    });
  });

  describe('when its traits are updated', () => {
    const given = [created, traitsChanged({ plan: 'pro', age: 42 })];

    it('sets and removes the given traits, keeping the others', () => {
      spec(given).when({ type: 'UpdateTraits', traits: { plan: 'enterprise', age: null, beta: false } }).then(traitsChanged({ plan: 'enterprise', beta: false }, ['age']));
    });

    it('does nothing when nothing changes', () => {
      spec(given).when({ type: 'UpdateTraits', traits: { plan: 'pro' } }).thenNothingHappened();
    });

    it('rejects an absent identity as not found', () => {
      spec([]).when({ type: 'UpdateTraits', traits: { plan: 'pro' } }).thenThrows(NotFoundError, withCode('IDENTITY.NOT_FOUND'));
    });

    it('rejects a deleted identity as not found', () => {
      spec([...given, deleted]).when({ type: 'UpdateTraits', traits: { plan: 'pro' } }).thenThrows(NotFoundError, withCode('IDENTITY.NOT_FOUND'));
    });

    it('updates when the expected revision is current', () => {
      spec(given).when({ type: 'UpdateTraits', traits: { plan: 'free' }, expectedRevision: 1 }).then(traitsChanged({ plan: 'free' }));
    });

    it('rejects an update at a stale revision', () => {
      spec(given)
        .when({ type: 'UpdateTraits', traits: { plan: 'free' }, expectedRevision: 0 })
        .thenThrows(PreconditionFailedError, (error) => {
          expect((error as DomainError).code).toBe('IDENTITY.STALE_REVISION');
          expect((error as DomainError).details).toEqual({ expected: 0, actual: 1 });
        });
    });
  });

  describe('when its traits are replaced', () => {
    const given = [created, traitsChanged({ plan: 'pro', age: 42, country: 'FR' })];

    it('sets the given traits and removes the unlisted ones', () => {
      spec(given).when({ type: 'ReplaceTraits', traits: { plan: 'pro', age: 43 } }).then(traitsChanged({ age: 43 }, ['country']));
    });

    it('removes every trait when none is given', () => {
      spec(given).when({ type: 'ReplaceTraits', traits: {} }).then(traitsChanged({}, ['plan', 'age', 'country']));
    });

    it('does nothing when the traits are the same', () => {
      spec(given).when({ type: 'ReplaceTraits', traits: { country: 'FR', plan: 'pro', age: 42 } }).thenNothingHappened();
    });

    it('rejects a replacement at a stale revision', () => {
      spec(given).when({ type: 'ReplaceTraits', traits: {}, expectedRevision: 5 }).thenThrows(PreconditionFailedError, withCode('IDENTITY.STALE_REVISION'));
    });
  });

  describe('when a feature is overridden', () => {
    const set = (featureStateUuid: string, enabled: boolean, value: string | null): IdentityCommand => ({
      type: 'SetIdentityOverride',
      featureId: 30,
      featureStateUuid,
      enabled,
      value,
      allocations: [],
    });

    it('sets the override with the given state uuid', () => {
      spec([created]).when(set('uuid-1', true, 'v2')).then(overrideSet('uuid-1', true, 'v2'));
    });

    it('keeps the first state uuid when set again', () => {
      spec([created, overrideSet('uuid-1', true, 'v2')]).when(set('uuid-2', false, 'v3')).then(overrideSet('uuid-1', false, 'v3'));
    });

    it('does nothing when set again identically', () => {
      spec([created, overrideSet('uuid-1', true, 'v2')]).when(set('uuid-2', true, 'v2')).thenNothingHappened();
    });

    it('takes the new state uuid after the override was removed', () => {
      spec([created, overrideSet('uuid-1', true, 'v2'), { type: 'IdentityOverrideRemoved', data: { ...address, featureId: 30 } }])
        .when(set('uuid-2', true, 'v2'))
        .then(overrideSet('uuid-2', true, 'v2'));
    });

    it('keeps the allocations', () => {
      spec([created])
        .when({ type: 'SetIdentityOverride', featureId: 50, featureStateUuid: 'uuid-3', enabled: true, value: 'grey', allocations: [{ optionId: 51, percentage: 100 }] })
        .then({
          type: 'IdentityOverrideSet',
          data: { ...address, featureId: 50, featureStateUuid: 'uuid-3', enabled: true, value: 'grey', allocations: [{ optionId: 51, percentage: 100 }] },
        });
    });

    it('rejects an absent identity as not found', () => {
      spec([]).when(set('uuid-1', true, 'v2')).thenThrows(NotFoundError, withCode('IDENTITY.NOT_FOUND'));
    });

    it('removes the override', () => {
      spec([created, overrideSet('uuid-1', true, 'v2')])
        .when({ type: 'RemoveIdentityOverride', featureId: 30 })
        .then({ type: 'IdentityOverrideRemoved', data: { ...address, featureId: 30 } });
    });

    it('rejects removing an override it does not have as not found', () => {
      spec([created, overrideSet('uuid-1', true, 'v2')])
        .when({ type: 'RemoveIdentityOverride', featureId: 31 })
        .thenThrows(NotFoundError, withCode('IDENTITY_OVERRIDE.NOT_FOUND'));
    });

    it('rejects removing an override twice as not found', () => {
      spec([created, overrideSet('uuid-1', true, 'v2'), { type: 'IdentityOverrideRemoved', data: { ...address, featureId: 30 } }])
        .when({ type: 'RemoveIdentityOverride', featureId: 30 })
        .thenThrows(NotFoundError, withCode('IDENTITY_OVERRIDE.NOT_FOUND'));
    });
  });

  describe('when deleted', () => {
    it('is deleted with its identifier', () => {
      spec([created]).when({ type: 'DeleteIdentity' }).then(deleted);
    });

    it('is deleted when the expected revision is current', () => {
      spec([created, traitsChanged({ plan: 'pro' })]).when({ type: 'DeleteIdentity', expectedRevision: 1 }).then(deleted);
    });

    it('rejects a deletion at a stale revision', () => {
      spec([created, traitsChanged({ plan: 'pro' })]).when({ type: 'DeleteIdentity', expectedRevision: 0 }).thenThrows(PreconditionFailedError, withCode('IDENTITY.STALE_REVISION'));
    });

    it('rejects deleting it twice as not found', () => {
      spec([created, deleted]).when({ type: 'DeleteIdentity' }).thenThrows(NotFoundError, withCode('IDENTITY.NOT_FOUND'));
    });

    it('rejects an override as not found', () => {
      spec([created, deleted])
        .when({ type: 'SetIdentityOverride', featureId: 30, featureStateUuid: 'uuid-1', enabled: true, value: null, allocations: [] })
        .thenThrows(NotFoundError, withCode('IDENTITY.NOT_FOUND'));
    });
  });

  describe('evolve', () => {
    const fold = (events: readonly IdentityEvent[]) =>
      events.reduce((state, event, revision) => identityDecider.evolve(state, event, revision), identityDecider.initialState());

    it('keeps traits, overrides and the revision of the last event', () => {
      expect(
        fold([created, traitsChanged({ plan: 'pro', age: 42 }), overrideSet('uuid-1', true, 'v2'), traitsChanged({ age: 43, beta: true }, ['plan'])]),
      ).toEqual({
        status: 'active',
        ...address,
        createdAt: NOW,
        traits: new Map<string, string | number | boolean>([
          ['age', 43],
          ['beta', true],
        ]),
        overrides: new Map([[30, { featureId: 30, featureStateUuid: 'uuid-1', enabled: true, value: 'v2', allocations: [] }]]),
        revision: 3,
      });
    });

    it('forgets traits and overrides on deletion, keeping the revision', () => {
      const state = fold([created, traitsChanged({ plan: 'pro' }), overrideSet('uuid-1', true, 'v2'), deleted]);
      expect(state).toMatchObject({ status: 'deleted', revision: 3 });
      expect(state.traits.size).toBe(0);
      expect(state.overrides.size).toBe(0);
    });
  });
});

describe('Identity traits written as floats', () => {
  const spec = deciderSpecification(identityDecider);
  const fold = (events: readonly StoredIdentityEvent[]) =>
    events.reduce((state, event, revision) => identityDecider.evolve(state, event as IdentityEvent, revision), identityDecider.initialState());

  it('stores an integral float as its number named in floats', () => {
    spec([created])
      .when({ type: 'UpdateTraits', traits: { score: new FloatNumber(5), age: 18, ratio: 0.5 } })
      .then(traitsChanged({ score: 5, age: 18, ratio: 0.5 }, [], ['score']));
  });

  it('takes 5.0 replacing 5 (and 5 replacing 5.0) as a change, and 5.0 again as none', () => {
    spec([created, traitsChanged({ score: 5 })]).when({ type: 'UpdateTraits', traits: { score: new FloatNumber(5) } }).then(traitsChanged({ score: 5 }, [], ['score']));
    spec([created, traitsChanged({ score: 5 }, [], ['score'])]).when({ type: 'UpdateTraits', traits: { score: 5 } }).then(traitsChanged({ score: 5 }));
    spec([created, traitsChanged({ score: 5 }, [], ['score'])]).when({ type: 'UpdateTraits', traits: { score: new FloatNumber(5) } }).thenNothingHappened();
  });

  it('creates an identity with its floats named, and folds them into FloatNumbers', () => {
    spec([]).when(record({ score: new FloatNumber(5), age: 18 })).then(createdWith({ score: 5, age: 18 }, ['score'], LATER));
    const state = fold([createdWith({ score: 5, age: 18 }, ['score'])]);
    expect(state.traits.get('score')).toBeInstanceOf(FloatNumber);
    expect(state.traits.get('age')).toBe(18);
  });

  it('folds floats into FloatNumbers and a later int back into a number', () => {
    const state = fold([created, traitsChanged({ score: 5, age: 18 }, [], ['score', 'age']), traitsChanged({ age: 19 })]);
    expect(state.traits.get('score')).toBeInstanceOf(FloatNumber);
    expect(Number(state.traits.get('score'))).toBe(5);
    expect(state.traits.get('age')).toBe(19);
  });

  describe('given a stream stored before schema version 2 (recorded JSON)', () => {
    const stored = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'identity-stream.v1.json'), 'utf8')) as StoredIdentityEvent[];

    it('upcasts its creation to version 2 with no traits (they follow in the traits change)', () => {
      const upcast = upcastIdentityEvent(stored[0] as StoredIdentityEvent);
      expect(upcast.data).toEqual({ ...(stored[0] as StoredIdentityEvent).data, schemaVersion: 2, traits: {}, floats: [] });
      expect(upcastIdentityEvent(created)).toBe(created);
    });

    it('upcasts its traits change to version 2 with no floats: its integral numbers stay ints', () => {
      const upcast = upcastIdentityEvent(stored[1] as StoredIdentityEvent);
      expect(upcast.data).toEqual({ ...(stored[1] as StoredIdentityEvent).data, schemaVersion: 2, floats: [] });
      const state = fold(stored);
      expect(Object.fromEntries(state.traits)).toEqual({ score: 5, age: 18, ratio: 0.5, plan: 'pro', beta: true });
      expect([...state.traits.values()].some((value) => value instanceof FloatNumber)).toBe(false);
    });

    it('leaves current events as they are', () => {
      const current = traitsChanged({ score: 5 }, [], ['score']);
      expect(upcastIdentityEvent(current)).toBe(current);
    });

    it('decides against the upcast state: 5.0 for a stored 5 is a change', () => {
      const state = fold(stored);
      expect(identityDecider.decide({ type: 'UpdateTraits', traits: { score: new FloatNumber(5), age: 18 } }, state)).toEqual({
        type: 'IdentityTraitsChanged',
        data: { ...(stored[1] as StoredIdentityEvent).data, schemaVersion: 2, set: { score: 5 }, floats: ['score'], removed: [] },
      });
    });
  });
});
