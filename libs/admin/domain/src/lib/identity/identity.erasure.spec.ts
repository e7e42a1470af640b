import { deciderSpecification } from '@flagline/event-sourcing/testing';
import { NotFoundError, type DomainError } from '../shared/domain-error';
import type { IdentityCommand } from './identity.commands';
import { IDENTITY_SEALING, isErasedIdentityEvent, type IdentityEvent } from './identity.events';
import { identityDecider, identityIdFor } from './identity.decider';

const NOW = '2026-02-01T10:00:00.000Z';
const address = { identityId: identityIdFor(20, 'alice'), projectId: 10, environmentId: 20, identifier: 'alice' };
const created: IdentityEvent = { type: 'IdentityCreated', data: { ...address, schemaVersion: 2, createdAt: NOW, traits: { plan: 'pro' }, floats: [] } };
const deleted: IdentityEvent = { type: 'IdentityDeleted', data: address };
const erased: IdentityEvent = { type: 'IdentityErased', data: address };
const erase: IdentityCommand = { type: 'EraseIdentity', ...address };
/** An event as it reads once its identity's key is destroyed: public fields only, and `erased: true`. */
const readAsErased = (event: IdentityEvent): IdentityEvent =>
  ({ type: event.type, data: { identityId: address.identityId, projectId: 10, environmentId: 20, erased: true } }) as unknown as IdentityEvent;

describe('Identity erasure', () => {
  const spec = deciderSpecification(identityDecider);
  const withCode = (code: string) => (error: Error) => expect((error as DomainError).code).toBe(code);
  const fold = (events: readonly IdentityEvent[]) => events.reduce((state, event, revision) => identityDecider.evolve(state, event, revision), identityDecider.initialState());

  it('records IdentityErased, naming the identity as every identity event does, for an identity that exists', () => {
    spec([created]).when(erase).then([erased]);
  });

  it('erases a deleted identity too: its earlier events still hold its data', () => {
    spec([created, deleted]).when(erase).then([erased]);
  });

  it('is not found for an identity that never existed', () => {
    spec([]).when(erase).thenThrows(NotFoundError, withCode('IDENTITY.NOT_FOUND'));
  });

  it('records nothing again for an identity already erased (the caller still destroys its key)', () => {
    spec([created, erased]).when(erase).then([]);
  });

  it('leaves no personal data in the state, and an identify makes the identity again', () => {
    const state = fold([created, erased]);
    expect(state).toMatchObject({ status: 'erased', identifier: '', revision: 1 });
    expect(state.traits.size).toBe(0);
    spec([created, erased])
      .when({ type: 'RecordIdentity', ...address, traits: { plan: 'free' }, now: NOW })
      .then([{ type: 'IdentityCreated', data: { ...address, schemaVersion: 2, createdAt: NOW, traits: { plan: 'free' }, floats: [] } }]);
  });

  it('folds events read as erased into an erased identity, and a new incarnation after them into an active one', () => {
    expect(fold([readAsErased(created), readAsErased(erased)])).toMatchObject({ status: 'erased', identifier: '' });
    expect(fold([readAsErased(created), readAsErased(erased), created])).toMatchObject({ status: 'active', identifier: 'alice', revision: 2 });
  });

  it('tells events read as erased from others', () => {
    expect(isErasedIdentityEvent(readAsErased(created))).toBe(true);
    expect(isErasedIdentityEvent(created)).toBe(false);
  });

  it('seals the identifier and every trait field of identity streams only', () => {
    expect(IDENTITY_SEALING.sealsStream(`identity-${address.identityId}`)).toBe(true);
    expect(IDENTITY_SEALING.sealsStream('project-10')).toBe(false);
    expect([...IDENTITY_SEALING.personalFields].sort()).toEqual(['floats', 'identifier', 'removed', 'set', 'traits']);
  });
});
