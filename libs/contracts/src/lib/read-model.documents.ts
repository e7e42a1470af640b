/**
 * The per-environment read models: everything the evaluation service needs, built by the
 * projector from the event log. The write side and the evaluation side share only these shapes.
 */

/** Bumped when a document shape changes incompatibly; projections then rebuild under new keys. */
export const READ_MODEL_SCHEMA_VERSION = 1;

/** A flag value: string, integer, boolean or nothing. */
export type FlagValue = string | number | boolean | null;

/** A trait value of an identity. */
export type TraitValueDocument = string | number | boolean;

/** One multivariate option of a feature. */
export interface MultivariateOptionDocument {
  readonly id: number;
  readonly value: FlagValue;
  /** Variant key reported by evaluation; null when the option has none. */
  readonly key: string | null;
  readonly defaultAllocation: number;
}

/** A feature as defined in its project. */
export interface FeatureDocument {
  readonly id: number;
  readonly name: string;
  readonly type: 'STANDARD' | 'MULTIVARIATE';
  readonly description: string;
  readonly initialValue: FlagValue;
  readonly defaultEnabled: boolean;
  readonly isServerKeyOnly: boolean;
  readonly isArchived: boolean;
  readonly createdAt: string;
  readonly options: readonly MultivariateOptionDocument[];
}

/** A feature state: the environment default, a segment override or an identity override. */
export interface FeatureStateDocument {
  /** Numeric id of the state's lineage; it seeds multivariate bucketing. Null for identity overrides. */
  readonly id: number | null;
  /** Stable UUID of the state; seeds bucketing where there is no numeric id. */
  readonly uuid: string;
  readonly enabled: boolean;
  readonly value: FlagValue;
  readonly allocations: readonly { readonly optionId: number; readonly percentage: number }[];
}

export interface ConditionDocument {
  readonly property: string;
  readonly operator: string;
  readonly value: string | null;
}

export interface RuleDocument {
  readonly type: 'ALL' | 'ANY' | 'NONE';
  readonly conditions: readonly ConditionDocument[];
  readonly rules: readonly RuleDocument[];
}

/** A segment with this environment's overrides. */
export interface SegmentDocument {
  readonly id: number;
  readonly name: string;
  readonly rules: readonly RuleDocument[];
  /** Overrides in this environment; `priority` 0 is the strongest. */
  readonly overrides: readonly { readonly featureId: number; readonly priority: number; readonly state: FeatureStateDocument }[];
}

export interface EnvironmentSettingsDocument {
  readonly hideDisabledFlags: boolean | null;
  readonly allowClientTraits: boolean;
  readonly hideSensitiveData: boolean;
  readonly useIdentityCompositeKeyForHashing: boolean;
  readonly useIdentityOverridesInLocalEval: boolean;
}

export interface IdentityOverridesDocument {
  readonly identifier: string;
  readonly identityUuid: string;
  readonly createdAt: string;
  readonly overrides: readonly { readonly featureId: number; readonly state: FeatureStateDocument }[];
}

export interface EnvironmentDocument {
  readonly schemaVersion: number;
  readonly environmentId: number;
  readonly name: string;
  /** The client-side key. */
  readonly apiKey: string;
  /** Live server-side keys: id and SHA-256 hex of the key. */
  readonly serverKeys: readonly { readonly keyId: string; readonly keyHash: string }[];
  readonly settings: EnvironmentSettingsDocument;
  readonly project: {
    readonly id: number;
    readonly name: string;
    readonly organisationId: number;
    /**
     * The organisation's name (it lives in the organisation's stream), as of its
     * `organisationRevision`-th name event; both absent until one is projected here.
     */
    readonly organisationName?: string;
    readonly organisationRevision?: number;
    readonly hideDisabledFlags: boolean;
  };
  /** In feature id order, each with its state in this environment. */
  readonly features: readonly { readonly feature: FeatureDocument; readonly state: FeatureStateDocument }[];
  /** In segment id order. */
  readonly segments: readonly SegmentDocument[];
  /** Identities that have overrides here, in identifier order. */
  readonly identityOverrides: readonly IdentityOverridesDocument[];
  /** Incremented by every change applied to this environment. */
  readonly revision: number;
  /** When the last applied change happened (ISO-8601). */
  readonly updatedAt: string;
}

export interface IdentityDocument {
  readonly environmentId: number;
  readonly identifier: string;
  readonly identityUuid: string;
  readonly createdAt: string;
  readonly traits: Readonly<Record<string, TraitValueDocument>>;
  /**
   * Traits whose number is a float although its value is integral (written `5.0`), in key
   * order; absent when there are none. Every other integral number is an int.
   */
  readonly floats?: readonly string[];
  readonly overrides: readonly { readonly featureId: number; readonly state: FeatureStateDocument }[];
  readonly revision: number;
}

/** The projector's own view of a project: what it needs to build environment documents. */
export interface ProjectDocument {
  readonly projectId: number;
  readonly organisationId: number;
  readonly name: string;
  readonly hideDisabledFlags: boolean;
  readonly environmentIds: readonly number[];
  /** In feature id order. */
  readonly features: readonly FeatureDocument[];
  /** In segment id order, without overrides. */
  readonly segments: readonly Omit<SegmentDocument, 'overrides'>[];
}

/** The projector's own view of an organisation: its name, for the environment documents of its projects. */
export interface OrganisationDocument {
  readonly organisationId: number;
  readonly name: string;
  /** How many of its name events (creation, renames) were applied. */
  readonly revision: number;
  /** When the last of them happened (ISO-8601). */
  readonly updatedAt: string;
}

/** Keys of the read-model documents. Identifiers are kept verbatim; stores must not glob-match them. */
export const readModelKeys = {
  environment: (environmentId: number): string => `environment:${environmentId}`,
  environmentPrefix: 'environment:',
  identity: (environmentId: number, identifier: string): string => `identity:${environmentId}:${identifier}`,
  identityPrefix: (environmentId: number): string => `identity:${environmentId}:`,
  project: (projectId: number): string => `project:${projectId}`,
  projectPrefix: 'project:',
  organisation: (organisationId: number): string => `organisation:${organisationId}`,
  checkpoint: (partition: string): string => `checkpoint:${partition}`,
} as const;
