import type { DomainEvent } from '@flagline/event-sourcing';
import type { Allocation, FeatureValue, TraitValue } from '../shared/values';

type I<T> = { identityId: string; projectId: number; environmentId: number; identifier: string } & T;

export type IdentityCreated = DomainEvent<'IdentityCreated', I<{ createdAt: string }>>;
/** Traits set (added or changed) and removed in one change. */
export type IdentityTraitsChanged = DomainEvent<'IdentityTraitsChanged', I<{ set: Record<string, TraitValue>; removed: string[] }>>;
export type IdentityOverrideSet = DomainEvent<
  'IdentityOverrideSet',
  I<{ featureId: number; featureStateUuid: string; enabled: boolean; value: FeatureValue; allocations: Allocation[] }>
>;
export type IdentityOverrideRemoved = DomainEvent<'IdentityOverrideRemoved', I<{ featureId: number }>>;
export type IdentityDeleted = DomainEvent<'IdentityDeleted', I<object>>;

export type IdentityEvent = IdentityCreated | IdentityTraitsChanged | IdentityOverrideSet | IdentityOverrideRemoved | IdentityDeleted;
