import type { IssueKeyFields } from '../shared/api-key';
import type { Allocation, FeatureValue } from '../shared/values';
import type { SegmentRule } from '../segment/segment-rule';
import type { EnvironmentSettings, FeatureType, MultivariateOption } from './project.state';

/** Present fields change; absent fields stay as they are. */
type Changes<T> = { readonly [K in keyof T]?: T[K] };

export type ProjectCommand =
  | { type: 'CreateProject'; projectId: number; organisationId: number; name: string; hideDisabledFlags: boolean; now: string }
  | ({ type: 'ChangeProjectSettings'; expectedRevision?: number } & Changes<{ name: string; hideDisabledFlags: boolean }>)
  | { type: 'DeleteProject'; expectedRevision?: number }
  | { type: 'CreateTag'; tagId: number; label: string; color: string; description: string }
  | ({ type: 'ChangeTag'; tagId: number; expectedRevision?: number } & Changes<{ label: string; color: string; description: string }>)
  | { type: 'DeleteTag'; tagId: number }
  | {
      type: 'CreateFeature';
      featureId: number;
      name: string;
      description: string;
      featureType: FeatureType;
      defaultEnabled: boolean;
      initialValue: FeatureValue;
      tagIds: readonly number[];
      isServerKeyOnly: boolean;
      options: readonly MultivariateOption[];
      /** One new state id per environment, in the order of `Project.environments`. */
      featureStateIds: readonly number[];
      now: string;
    }
  | ({ type: 'ChangeFeature'; featureId: number; expectedRevision?: number } & Changes<{
      name: string;
      description: string;
      tagIds: readonly number[];
      defaultEnabled: boolean;
      initialValue: FeatureValue;
      isServerKeyOnly: boolean;
      isArchived: boolean;
    }>)
  | { type: 'DeleteFeature'; featureId: number; expectedRevision?: number }
  | { type: 'AddMultivariateOption'; featureId: number; option: MultivariateOption }
  | ({ type: 'ChangeMultivariateOption'; featureId: number; optionId: number } & Changes<Omit<MultivariateOption, 'optionId'>>)
  | { type: 'RemoveMultivariateOption'; featureId: number; optionId: number }
  | { type: 'CreateSegment'; segmentId: number; name: string; description: string; rules: readonly SegmentRule[]; now: string }
  | ({ type: 'ChangeSegment'; segmentId: number; expectedRevision?: number } & Changes<{
      name: string;
      description: string;
      rules: readonly SegmentRule[];
    }>)
  | { type: 'DeleteSegment'; segmentId: number; expectedRevision?: number }
  | {
      type: 'CreateEnvironment';
      environmentId: number;
      name: string;
      description: string;
      apiKey: string;
      settings: Changes<EnvironmentSettings>;
      /** One new state id per feature, in the order of `Project.features`. */
      featureStateIds: readonly number[];
      now: string;
    }
  | {
      type: 'CloneEnvironment';
      sourceEnvironmentId: number;
      environmentId: number;
      name: string;
      description?: string;
      apiKey: string;
      /** New state ids: first one per feature state, then one per segment override, in source order. */
      featureStateIds: readonly number[];
      now: string;
    }
  | ({ type: 'ChangeEnvironment'; environmentId: number; expectedRevision?: number } & Changes<{
      name: string;
      description: string;
      settings: Changes<EnvironmentSettings>;
    }>)
  | { type: 'DeleteEnvironment'; environmentId: number; expectedRevision?: number }
  | ({ type: 'IssueServerKey'; environmentId: number } & IssueKeyFields)
  | { type: 'RevokeServerKey'; environmentId: number; keyId: string; now: string }
  | ({ type: 'ChangeFeatureState'; environmentId: number; featureId: number; expectedRevision?: number } & Changes<{
      enabled: boolean;
      value: FeatureValue;
      allocations: readonly Allocation[];
    }>)
  | {
      type: 'CreateSegmentOverride';
      environmentId: number;
      featureId: number;
      segmentId: number;
      featureStateId: number;
      enabled: boolean;
      value: FeatureValue;
      /** Absent: the feature's default allocations. */
      allocations?: readonly Allocation[];
      /** Absent: weakest (appended last). */
      priority?: number;
    }
  | ({ type: 'ChangeSegmentOverride'; environmentId: number; featureId: number; segmentId: number; expectedRevision?: number } & Changes<{
      enabled: boolean;
      value: FeatureValue;
      allocations: readonly Allocation[];
    }>)
  | { type: 'RemoveSegmentOverride'; environmentId: number; featureId: number; segmentId: number }
  | { type: 'ReorderSegmentOverrides'; environmentId: number; featureId: number; segmentIds: readonly number[] };

export type ProjectCommandType = ProjectCommand['type'];

