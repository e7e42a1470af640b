import type { DomainEvent } from '@flagline/event-sourcing';
import type { IssueKeyFields } from '../shared/api-key';
import type { Allocation, FeatureValue } from '../shared/values';
import type { SegmentRule } from '../segment/segment-rule';
import type { EnvironmentSettings, FeatureType, MultivariateOption } from './project.state';

type P<T> = { projectId: number } & T;

export type ProjectCreated = DomainEvent<'ProjectCreated', P<{ organisationId: number; name: string; hideDisabledFlags: boolean; createdAt: string }>>;
export type ProjectSettingsChanged = DomainEvent<'ProjectSettingsChanged', P<{ name: string; hideDisabledFlags: boolean }>>;
export type ProjectDeleted = DomainEvent<'ProjectDeleted', P<{ environmentIds: number[] }>>;

export type TagCreated = DomainEvent<'TagCreated', P<{ tagId: number; label: string; color: string; description: string }>>;
export type TagChanged = DomainEvent<'TagChanged', P<{ tagId: number; label: string; color: string; description: string }>>;
export type TagDeleted = DomainEvent<'TagDeleted', P<{ tagId: number }>>;

export type FeatureCreated = DomainEvent<
  'FeatureCreated',
  P<{
    featureId: number;
    name: string;
    description: string;
    type: FeatureType;
    defaultEnabled: boolean;
    initialValue: FeatureValue;
    tagIds: number[];
    isServerKeyOnly: boolean;
    options: MultivariateOption[];
    createdAt: string;
    /** The feature's state in every environment of the project starts from its defaults. */
    environmentStates: { environmentId: number; featureStateId: number }[];
  }>
>;
export type FeatureRenamed = DomainEvent<'FeatureRenamed', P<{ featureId: number; name: string }>>;
export type FeatureDescriptionChanged = DomainEvent<'FeatureDescriptionChanged', P<{ featureId: number; description: string }>>;
export type FeatureTagsChanged = DomainEvent<'FeatureTagsChanged', P<{ featureId: number; tagIds: number[] }>>;
export type FeatureDefaultsChanged = DomainEvent<'FeatureDefaultsChanged', P<{ featureId: number; defaultEnabled: boolean; initialValue: FeatureValue }>>;
export type FeatureVisibilityChanged = DomainEvent<'FeatureVisibilityChanged', P<{ featureId: number; isServerKeyOnly: boolean }>>;
export type FeatureArchived = DomainEvent<'FeatureArchived', P<{ featureId: number }>>;
export type FeatureUnarchived = DomainEvent<'FeatureUnarchived', P<{ featureId: number }>>;
export type FeatureDeleted = DomainEvent<'FeatureDeleted', P<{ featureId: number }>>;
export type MultivariateOptionAdded = DomainEvent<'MultivariateOptionAdded', P<{ featureId: number; option: MultivariateOption }>>;
export type MultivariateOptionChanged = DomainEvent<'MultivariateOptionChanged', P<{ featureId: number; option: MultivariateOption }>>;
export type MultivariateOptionRemoved = DomainEvent<'MultivariateOptionRemoved', P<{ featureId: number; optionId: number }>>;

export type SegmentCreated = DomainEvent<
  'SegmentCreated',
  P<{ segmentId: number; name: string; description: string; rules: SegmentRule[]; createdAt: string }>
>;
export type SegmentRenamed = DomainEvent<'SegmentRenamed', P<{ segmentId: number; name: string }>>;
export type SegmentDescriptionChanged = DomainEvent<'SegmentDescriptionChanged', P<{ segmentId: number; description: string }>>;
export type SegmentRuleChanged = DomainEvent<'SegmentRuleChanged', P<{ segmentId: number; rules: SegmentRule[] }>>;
export type SegmentDeleted = DomainEvent<'SegmentDeleted', P<{ segmentId: number }>>;

export interface CopiedFeatureState {
  featureId: number;
  featureStateId: number;
  enabled: boolean;
  value: FeatureValue;
  allocations: Allocation[];
}

export type EnvironmentCreated = DomainEvent<
  'EnvironmentCreated',
  P<{
    environmentId: number;
    name: string;
    description: string;
    apiKey: string;
    settings: EnvironmentSettings;
    createdAt: string;
    /** Every feature of the project gets a state here, from its defaults. */
    featureStates: { featureId: number; featureStateId: number }[];
  }>
>;
export type EnvironmentCloned = DomainEvent<
  'EnvironmentCloned',
  P<{
    environmentId: number;
    sourceEnvironmentId: number;
    name: string;
    description: string;
    apiKey: string;
    settings: EnvironmentSettings;
    createdAt: string;
    featureStates: CopiedFeatureState[];
    /** Copied overrides; within one feature, in priority order. */
    segmentOverrides: (CopiedFeatureState & { segmentId: number })[];
  }>
>;
export type EnvironmentRenamed = DomainEvent<'EnvironmentRenamed', P<{ environmentId: number; name: string; description: string }>>;
export type EnvironmentSettingsChanged = DomainEvent<'EnvironmentSettingsChanged', P<{ environmentId: number; settings: EnvironmentSettings }>>;
export type EnvironmentDeleted = DomainEvent<'EnvironmentDeleted', P<{ environmentId: number }>>;
export type ServerKeyIssued = DomainEvent<'ServerKeyIssued', P<IssueKeyFields & { environmentId: number }>>;
export type ServerKeyRevoked = DomainEvent<'ServerKeyRevoked', P<{ environmentId: number; keyId: string; revokedAt: string }>>;

export type FeatureStateChanged = DomainEvent<
  'FeatureStateChanged',
  P<{ environmentId: number; featureId: number; featureStateId: number; enabled: boolean; value: FeatureValue; allocations: Allocation[] }>
>;
export type SegmentOverrideCreated = DomainEvent<
  'SegmentOverrideCreated',
  P<{
    environmentId: number;
    featureId: number;
    segmentId: number;
    featureStateId: number;
    enabled: boolean;
    value: FeatureValue;
    allocations: Allocation[];
    /** Position in the feature's override order (0 is the strongest). */
    priority: number;
  }>
>;
export type SegmentOverrideChanged = DomainEvent<
  'SegmentOverrideChanged',
  P<{ environmentId: number; featureId: number; segmentId: number; enabled: boolean; value: FeatureValue; allocations: Allocation[] }>
>;
export type SegmentOverrideRemoved = DomainEvent<'SegmentOverrideRemoved', P<{ environmentId: number; featureId: number; segmentId: number }>>;
export type SegmentOverridesReordered = DomainEvent<
  'SegmentOverridesReordered',
  P<{ environmentId: number; featureId: number; segmentIds: number[] }>
>;

export type ProjectEvent =
  | ProjectCreated
  | ProjectSettingsChanged
  | ProjectDeleted
  | TagCreated
  | TagChanged
  | TagDeleted
  | FeatureCreated
  | FeatureRenamed
  | FeatureDescriptionChanged
  | FeatureTagsChanged
  | FeatureDefaultsChanged
  | FeatureVisibilityChanged
  | FeatureArchived
  | FeatureUnarchived
  | FeatureDeleted
  | MultivariateOptionAdded
  | MultivariateOptionChanged
  | MultivariateOptionRemoved
  | SegmentCreated
  | SegmentRenamed
  | SegmentDescriptionChanged
  | SegmentRuleChanged
  | SegmentDeleted
  | EnvironmentCreated
  | EnvironmentCloned
  | EnvironmentRenamed
  | EnvironmentSettingsChanged
  | EnvironmentDeleted
  | ServerKeyIssued
  | ServerKeyRevoked
  | FeatureStateChanged
  | SegmentOverrideCreated
  | SegmentOverrideChanged
  | SegmentOverrideRemoved
  | SegmentOverridesReordered;

export type ProjectEventType = ProjectEvent['type'];
