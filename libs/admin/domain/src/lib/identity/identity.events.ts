import type { DomainEvent } from '@flagline/event-sourcing';
import type { Allocation, FeatureValue } from '../shared/values';

type I<T> = { identityId: string; projectId: number; environmentId: number; identifier: string } & T;

/** A trait value as stored in an event: JSON, so a float written `5.0` is stored as `5` and named in `floats`. */
export type StoredTraitValue = string | number | boolean;

/**
 * An identity created with the traits it was first seen with (an SDK's identify, or the admin
 * API's create): one event, so recording a new identity appends, indexes and projects one record.
 * Schema version 2: `traits` and `floats` (the traits whose integral number is a float, as in
 * `IdentityTraitsChanged`). Version 1 (`identity.events.v1.ts`) had no traits: its identity's
 * first traits came in an `IdentityTraitsChanged` after it.
 */
export type IdentityCreated = DomainEvent<
  'IdentityCreated',
  I<{ schemaVersion: 2; createdAt: string; traits: Record<string, StoredTraitValue>; floats: string[] }>
>;

/**
 * Traits set (added or changed) and removed in one change. Schema version 2: `floats` names the
 * traits of `set` whose number is a float although its value is integral (written `5.0`); every
 * other number of `set` is what it looks like. Version 1 (`identity.events.v1.ts`) had no
 * `floats`: its integral numbers are ints, as they were evaluated when it was written.
 */
export type IdentityTraitsChanged = DomainEvent<
  'IdentityTraitsChanged',
  I<{ schemaVersion: 2; set: Record<string, StoredTraitValue>; floats: string[]; removed: string[] }>
>;
export type IdentityOverrideSet = DomainEvent<
  'IdentityOverrideSet',
  I<{ featureId: number; featureStateUuid: string; enabled: boolean; value: FeatureValue; allocations: Allocation[] }>
>;
export type IdentityOverrideRemoved = DomainEvent<'IdentityOverrideRemoved', I<{ featureId: number }>>;
export type IdentityDeleted = DomainEvent<'IdentityDeleted', I<object>>;
/**
 * The identity's personal data was erased on request (GDPR): the key that sealed its events is
 * destroyed once this event is projected, so they, this one included, read as erased from then on.
 * Like every identity event it names the identifier, which is sealed in the log (see
 * `IDENTITY_SEALING`): the projections drop what they keep under it while it can still be read.
 */
export type IdentityErased = DomainEvent<'IdentityErased', I<object>>;

export type IdentityEvent = IdentityCreated | IdentityTraitsChanged | IdentityOverrideSet | IdentityOverrideRemoved | IdentityDeleted | IdentityErased;

/**
 * What of an identity's events is personal data: the identifier and the traits (names and values),
 * and which streams carry it. The shell stores these fields only in a sealed box (AES-256-GCM under
 * a key per identity stream, kept outside the log); once that key is destroyed the events read with
 * `erased: true` in their place (`isErasedIdentityEvent`).
 */
export const IDENTITY_SEALING = {
  sealsStream: (streamName: string): boolean => streamName.startsWith('identity-'),
  personalFields: ['identifier', 'traits', 'floats', 'set', 'removed'] as readonly string[],
};

/** True for an identity event read after its identity was erased: its personal fields are gone, `erased: true` stands in for them. */
export function isErasedIdentityEvent(event: { readonly data: unknown }): boolean {
  const data = event.data as { erased?: unknown } | null;
  return typeof data === 'object' && data !== null && data.erased === true;
}
