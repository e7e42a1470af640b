import { createHmac, hash } from 'node:crypto';
import type { Decider } from '@flagline/event-sourcing';
import { FloatNumber, sameScalar } from '@flagline/python-compat';
import { checkRevision, ConflictError, NotFoundError } from '../shared/domain-error';
import type { Allocation, FeatureValue, TraitValue } from '../shared/values';
import type { IdentityAddress, IdentityCommand } from './identity.commands';
import { isErasedIdentityEvent, type IdentityEvent, type IdentityTraitsChanged, type StoredTraitValue } from './identity.events';
import { upcastIdentityEvent, type StoredIdentityEvent } from './identity.events.v1';

export interface IdentityOverride {
  readonly featureId: number;
  readonly featureStateUuid: string;
  readonly enabled: boolean;
  readonly value: FeatureValue;
  readonly allocations: readonly Allocation[];
}

export interface Identity {
  /** `erased`: its personal data was erased; its earlier events read as erased, and an identify makes it again. */
  readonly status: 'absent' | 'active' | 'deleted' | 'erased';
  readonly identityId: string;
  readonly projectId: number;
  readonly environmentId: number;
  readonly identifier: string;
  readonly createdAt: string;
  readonly traits: ReadonlyMap<string, TraitValue>;
  readonly overrides: ReadonlyMap<number, IdentityOverride>;
  readonly revision: number;
}

/**
 * Identities are addressed by environment and identifier; the id is derived, so "get or create"
 * needs no index. The same digest as `identityIdFor` of `@flagline/contracts` (the evaluation
 * side's, which the domain may not import); `identity-address.spec` holds the two together.
 */
export function identityIdFor(environmentId: number, identifier: string): string {
  // The one-shot digest: no Hash object per call (every SDK identify of an identity records through it).
  return hash('sha256', `${environmentId}\u0000${identifier}`, 'hex').slice(0, 32);
}

/** How an instance derives identity ids (and so identity stream names) from environment and identifier. */
export type IdentityIds = (environmentId: number, identifier: string) => string;

/**
 * The identity ids of an instance: keyed (HMAC-SHA-256 with the instance's secret, kept outside
 * the log), so that holding the log is not enough to confirm a guessed identifier, or, with no
 * key, the unkeyed digest of `identityIdFor` (data directories that stored identities before
 * keyed ids keep it: their streams are named with it). The same 128 bits either way. Flagsmith's
 * `identity_uuid` is not derived from it (see `identityUuidFor` in the contracts).
 */
export function identityIdsWith(key: Buffer | null): IdentityIds {
  if (!key) return identityIdFor;
  // The last id asked for is remembered: an SDK identify of a new identity asks for it twice (is
  // its stream in the log? then the write), and an HMAC costs a few microseconds each time.
  let lastEnvironmentId = Number.NaN;
  let lastIdentifier = '';
  let lastId = '';
  return (environmentId, identifier) => {
    if (environmentId === lastEnvironmentId && identifier === lastIdentifier) return lastId;
    const id = createHmac('sha256', key).update(`${environmentId}\u0000${identifier}`).digest('hex').slice(0, 32);
    lastEnvironmentId = environmentId;
    lastIdentifier = identifier;
    lastId = id;
    return id;
  };
}

export const toIdentityStreamName = (identityId: string): string => `identity-${identityId}`;

export function initialIdentity(): Identity {
  return {
    status: 'absent',
    identityId: '',
    projectId: 0,
    environmentId: 0,
    identifier: '',
    createdAt: '',
    traits: new Map(),
    overrides: new Map(),
    revision: -1,
  };
}

function active(state: Identity): Identity {
  if (state.status !== 'active') throw new NotFoundError('IDENTITY.NOT_FOUND', 'Identity not found');
  return state;
}

type TraitChange = Pick<IdentityTraitsChanged['data'], 'schemaVersion' | 'set' | 'floats' | 'removed'>;

/**
 * The change that brings `current` traits to the requested ones (null removes), or null when
 * nothing changes. `5` and `5.0` differ (an int and a float), so one replacing the other is a change.
 */
function traitChange(current: ReadonlyMap<string, TraitValue>, requested: Readonly<Record<string, TraitValue | null>>, replaceAll: boolean): TraitChange | null {
  const set: Record<string, StoredTraitValue> = {};
  let changed = 0;
  const floats: string[] = [];
  const removed: string[] = [];
  for (const key of Object.keys(requested)) {
    const value = requested[key] as TraitValue | null;
    if (value === null) {
      if (current.has(key)) removed.push(key);
    } else if (!current.has(key) || !sameScalar(current.get(key), value)) {
      const float = value instanceof FloatNumber;
      if (float) floats.push(key);
      // Trait names are arbitrary text: "__proto__" must be defined, not assigned (assignment would set the prototype).
      if (key === '__proto__') Object.defineProperty(set, key, { value: float ? value.valueOf() : value, enumerable: true, writable: true, configurable: true });
      else set[key] = float ? value.valueOf() : value;
      changed++;
    }
  }
  if (replaceAll) for (const key of current.keys()) if (!Object.hasOwn(requested, key)) removed.push(key);
  return changed === 0 && removed.length === 0 ? null : { schemaVersion: 2, set, floats, removed };
}

const NO_TRAITS: ReadonlyMap<string, TraitValue> = new Map();

function address(identity: Identity): IdentityAddress {
  return { identityId: identity.identityId, projectId: identity.projectId, environmentId: identity.environmentId, identifier: identity.identifier };
}

export function decideIdentity(command: IdentityCommand, state: Identity): IdentityEvent | IdentityEvent[] {
  switch (command.type) {
    case 'CreateIdentity':
    case 'RecordIdentity': {
      const { identityId, projectId, environmentId, identifier } = command;
      const ids = { identityId, projectId, environmentId, identifier };
      if (state.status === 'active') {
        if (command.type === 'CreateIdentity') throw new ConflictError('IDENTITY.EXISTS', `Identity "${identifier}" already exists`);
        const change = traitChange(state.traits, command.traits, false);
        return change ? { type: 'IdentityTraitsChanged', data: { ...ids, ...change } } : [];
      }
      // Created with its traits in one event (a null trait of a new identity removes nothing).
      const change = traitChange(NO_TRAITS, command.traits, false);
      return { type: 'IdentityCreated', data: { ...ids, schemaVersion: 2, createdAt: command.now, traits: change?.set ?? {}, floats: change?.floats ?? [] } };
    }
    case 'UpdateTraits':
    case 'ReplaceTraits': {
      const identity = active(state);
      checkRevision('identity', command.expectedRevision, identity.revision);
      const change = traitChange(identity.traits, command.traits, command.type === 'ReplaceTraits');
      return change ? { type: 'IdentityTraitsChanged', data: { ...address(identity), ...change } } : [];
    }
    case 'SetIdentityOverride': {
      const identity = active(state);
      const existing = identity.overrides.get(command.featureId);
      const override = {
        featureId: command.featureId,
        featureStateUuid: existing?.featureStateUuid ?? command.featureStateUuid,
        enabled: command.enabled,
        value: command.value,
        allocations: command.allocations.map((allocation) => ({ ...allocation })),
      };
      if (existing && JSON.stringify(existing) === JSON.stringify(override)) return [];
      return { type: 'IdentityOverrideSet', data: { ...address(identity), ...override } };
    }
    case 'RemoveIdentityOverride': {
      const identity = active(state);
      if (!identity.overrides.has(command.featureId))
        throw new NotFoundError('IDENTITY_OVERRIDE.NOT_FOUND', `Identity has no override of feature ${command.featureId}`);
      return { type: 'IdentityOverrideRemoved', data: { ...address(identity), featureId: command.featureId } };
    }
    case 'DeleteIdentity': {
      const identity = active(state);
      checkRevision('identity', command.expectedRevision, identity.revision);
      return { type: 'IdentityDeleted', data: address(identity) };
    }
    case 'EraseIdentity': {
      // A deleted identity's earlier events still hold its data: it may be erased too. One erased
      // already needs no other event (its key may still have to be destroyed: the caller does that).
      if (state.status === 'erased') return [];
      if (state.status === 'absent') throw new NotFoundError('IDENTITY.NOT_FOUND', 'Identity not found');
      const { identityId, projectId, environmentId, identifier } = command;
      return { type: 'IdentityErased', data: { identityId, projectId, environmentId, identifier } };
    }
  }
}

/** The traits after a change: `removed` dropped, `set` added (a number named in `floats` as a float). */
function withTraits(current: ReadonlyMap<string, TraitValue>, set: Readonly<Record<string, StoredTraitValue>>, floats: readonly string[], removed: readonly string[]): Map<string, TraitValue> {
  const traits = new Map(current);
  for (const key of removed) traits.delete(key);
  for (const key of Object.keys(set)) {
    const value = set[key] as StoredTraitValue;
    traits.set(key, typeof value === 'number' && floats.length > 0 && floats.includes(key) ? new FloatNumber(value) : value);
  }
  return traits;
}

export function evolveIdentity(state: Identity, stored: StoredIdentityEvent, revision: number): Identity {
  // An event whose identity was erased reads without its personal data: the identity it belonged to is erased.
  if (isErasedIdentityEvent(stored)) return { ...initialIdentity(), status: 'erased', revision };
  const event = upcastIdentityEvent(stored);
  switch (event.type) {
    case 'IdentityCreated': {
      const { identityId, projectId, environmentId, identifier, createdAt, traits, floats } = event.data;
      return { ...initialIdentity(), status: 'active', identityId, projectId, environmentId, identifier, createdAt, traits: withTraits(NO_TRAITS, traits, floats, []), revision };
    }
    case 'IdentityTraitsChanged': {
      const { set, floats, removed } = event.data;
      return { ...state, traits: withTraits(state.traits, set, floats, removed), revision };
    }
    case 'IdentityOverrideSet': {
      const { featureId, featureStateUuid, enabled, value, allocations } = event.data;
      return { ...state, overrides: new Map(state.overrides).set(featureId, { featureId, featureStateUuid, enabled, value, allocations }), revision };
    }
    case 'IdentityOverrideRemoved': {
      const overrides = new Map(state.overrides);
      overrides.delete(event.data.featureId);
      return { ...state, overrides, revision };
    }
    case 'IdentityDeleted':
      return { ...initialIdentity(), status: 'deleted', revision };
    case 'IdentityErased':
      return { ...initialIdentity(), status: 'erased', revision };
  }
}

export const identityDecider: Decider<Identity, IdentityCommand, IdentityEvent> = {
  decide: decideIdentity,
  evolve: evolveIdentity,
  initialState: initialIdentity,
};
