import type { Allocation, FeatureValue, TraitValue } from '../shared/values';

export interface IdentityAddress {
  readonly identityId: string;
  readonly projectId: number;
  readonly environmentId: number;
  readonly identifier: string;
}

export type IdentityCommand =
  | ({ type: 'CreateIdentity'; traits: Readonly<Record<string, TraitValue | null>>; now: string } & IdentityAddress)
  /** SDK identify: creates the identity if needed and applies the traits; does nothing when nothing changes. */
  | ({ type: 'RecordIdentity'; traits: Readonly<Record<string, TraitValue | null>>; now: string } & IdentityAddress)
  | { type: 'UpdateTraits'; traits: Readonly<Record<string, TraitValue | null>>; expectedRevision?: number }
  | { type: 'ReplaceTraits'; traits: Readonly<Record<string, TraitValue>>; expectedRevision?: number }
  | {
      type: 'SetIdentityOverride';
      featureId: number;
      /** Used when the identity has no override of this feature yet. */
      featureStateUuid: string;
      enabled: boolean;
      value: FeatureValue;
      allocations: readonly Allocation[];
    }
  | { type: 'RemoveIdentityOverride'; featureId: number }
  | { type: 'DeleteIdentity'; expectedRevision?: number }
  /** Erases the identity's personal data (GDPR): allowed for an identity that exists or was deleted. */
  | ({ type: 'EraseIdentity' } & IdentityAddress);
