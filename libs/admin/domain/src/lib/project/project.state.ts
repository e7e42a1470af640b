import type { StoredApiKey } from '../shared/api-key';
import type { Allocation, FeatureValue } from '../shared/values';
import type { SegmentRule } from '../segment/segment-rule';

export const FEATURE_TYPES = ['STANDARD', 'MULTIVARIATE'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];

export interface Tag {
  readonly tagId: number;
  readonly label: string;
  readonly color: string;
  readonly description: string;
  readonly revision: number;
}

export interface MultivariateOption {
  readonly optionId: number;
  readonly value: FeatureValue;
  readonly key: string | null;
  /** Allocation (percent) that new environment states start with. */
  readonly defaultAllocation: number;
}

export interface Feature {
  readonly featureId: number;
  readonly name: string;
  readonly description: string;
  readonly type: FeatureType;
  readonly defaultEnabled: boolean;
  readonly initialValue: FeatureValue;
  readonly tagIds: readonly number[];
  readonly isArchived: boolean;
  readonly isServerKeyOnly: boolean;
  readonly options: readonly MultivariateOption[];
  readonly createdAt: string;
  readonly revision: number;
}

export interface Segment {
  readonly segmentId: number;
  readonly name: string;
  readonly description: string;
  readonly rules: readonly SegmentRule[];
  readonly createdAt: string;
  readonly revision: number;
}

/** A feature's state in one environment: the environment default, or a segment's override. */
export interface FeatureStateValue {
  /** Stable id of this state's lineage; it seeds multivariate bucketing, so edits keep identities in their bucket. */
  readonly featureStateId: number;
  readonly enabled: boolean;
  readonly value: FeatureValue;
  readonly allocations: readonly Allocation[];
  readonly revision: number;
}

export interface SegmentOverride extends FeatureStateValue {
  readonly segmentId: number;
}

export interface EnvironmentSettings {
  /** null: follow the project's setting. */
  readonly hideDisabledFlags: boolean | null;
  readonly allowClientTraits: boolean;
  readonly hideSensitiveData: boolean;
  readonly useIdentityCompositeKeyForHashing: boolean;
  readonly useIdentityOverridesInLocalEval: boolean;
}

export const DEFAULT_ENVIRONMENT_SETTINGS: EnvironmentSettings = {
  hideDisabledFlags: null,
  allowClientTraits: true,
  hideSensitiveData: false,
  useIdentityCompositeKeyForHashing: true,
  useIdentityOverridesInLocalEval: true,
};

export interface Environment {
  readonly environmentId: number;
  readonly name: string;
  readonly description: string;
  /** The client-side key: public, identifies the environment to SDKs. */
  readonly apiKey: string;
  readonly settings: EnvironmentSettings;
  readonly serverKeys: ReadonlyMap<string, StoredApiKey>;
  readonly featureStates: ReadonlyMap<number, FeatureStateValue>;
  /** Per feature, the segment overrides in priority order (index 0 is the strongest). */
  readonly segmentOverrides: ReadonlyMap<number, readonly SegmentOverride[]>;
  readonly createdAt: string;
  readonly revision: number;
}

export interface Project {
  readonly status: 'absent' | 'active' | 'deleted';
  readonly projectId: number;
  readonly organisationId: number;
  readonly name: string;
  readonly hideDisabledFlags: boolean;
  readonly createdAt: string;
  readonly revision: number;
  readonly tags: ReadonlyMap<number, Tag>;
  readonly features: ReadonlyMap<number, Feature>;
  readonly segments: ReadonlyMap<number, Segment>;
  readonly environments: ReadonlyMap<number, Environment>;
}

export const toProjectStreamName = (projectId: number): string => `project-${projectId}`;

export function initialProject(): Project {
  return {
    status: 'absent',
    projectId: 0,
    organisationId: 0,
    name: '',
    hideDisabledFlags: false,
    createdAt: '',
    revision: -1,
    tags: new Map(),
    features: new Map(),
    segments: new Map(),
    environments: new Map(),
  };
}

/** The state a feature starts with in an environment: its defaults and its options' default allocations. */
export function initialFeatureState(
  feature: Pick<Feature, 'defaultEnabled' | 'initialValue' | 'options'>,
  featureStateId: number,
  revision: number,
): FeatureStateValue {
  return {
    featureStateId,
    enabled: feature.defaultEnabled,
    value: feature.initialValue,
    allocations: feature.options.map((option) => ({ optionId: option.optionId, percentage: option.defaultAllocation })),
    revision,
  };
}
