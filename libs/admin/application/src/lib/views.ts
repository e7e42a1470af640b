import type {
  AdminEvent,
  Environment,
  Feature,
  FeatureStateValue,
  FeatureValue,
  Identity,
  Invitation,
  InvitationStatus,
  Organisation,
  OrganisationApiKey,
  Project,
  Role,
  Segment,
  SegmentOverride,
  SegmentRule,
  StoredApiKey,
  Tag,
  TraitValue,
  User,
} from '@flagline/admin-domain';
import type { Actor, RecordedEvent } from '@flagline/event-sourcing';

/** A view with the revision that goes into its `ETag`. */
export interface Versioned<V> {
  readonly view: V;
  readonly revision: number;
}

export interface UserView {
  id: number;
  email: string;
  name: string;
  isSuperuser: boolean;
  createdAt: string;
  organisations: { id: number; name: string; role: Role }[];
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  role?: Role;
  createdAt: string;
  revokedAt: string | null;
  /** The full key: returned once, when the key is issued. */
  key?: string;
}

export interface OrganisationView {
  id: number;
  name: string;
  createdAt: string;
}

export interface MemberView {
  userId: number;
  email: string;
  name: string;
  role: Role;
}

export interface InvitationView {
  id: string;
  organisation: { id: number; name: string };
  email: string;
  role: Role;
  status: InvitationStatus;
  createdAt: string;
  expiresAt: string;
  /** When it was accepted, declined or revoked; null while pending or once expired. */
  answeredAt: string | null;
}

export interface ProjectView {
  id: number;
  organisationId: number;
  name: string;
  hideDisabledFlags: boolean;
  createdAt: string;
}

export interface EnvironmentView {
  id: number;
  projectId: number;
  name: string;
  description: string;
  apiKey: string;
  hideDisabledFlags: boolean | null;
  allowClientTraits: boolean;
  hideSensitiveData: boolean;
  useIdentityCompositeKeyForHashing: boolean;
  useIdentityOverridesInLocalEval: boolean;
  createdAt: string;
}

export interface TagView {
  id: number;
  projectId: number;
  label: string;
  color: string;
  description: string;
}

export interface MultivariateOptionView {
  id: number;
  value: FeatureValue;
  key: string | null;
  defaultPercentageAllocation: number;
}

export interface FeatureView {
  id: number;
  projectId: number;
  name: string;
  description: string;
  type: 'STANDARD' | 'MULTIVARIATE';
  defaultEnabled: boolean;
  initialValue: FeatureValue;
  tags: number[];
  isArchived: boolean;
  isServerKeyOnly: boolean;
  multivariateOptions: MultivariateOptionView[];
  createdAt: string;
}

export interface AllocationView {
  optionId: number;
  percentage: number;
}

export interface FeatureStateView {
  environmentId: number;
  featureId: number;
  featureName: string;
  featureStateId: number;
  enabled: boolean;
  value: FeatureValue;
  multivariateAllocations: AllocationView[];
}

export interface SegmentView {
  id: number;
  projectId: number;
  name: string;
  description: string;
  rules: SegmentRule[];
  createdAt: string;
}

export interface SegmentOverrideView {
  environmentId: number;
  featureId: number;
  featureName: string;
  segmentId: number;
  segmentName: string;
  priority: number;
  featureStateId: number;
  enabled: boolean;
  value: FeatureValue;
  multivariateAllocations: AllocationView[];
}

export interface IdentityOverrideView {
  featureId: number;
  featureName: string;
  enabled: boolean;
  value: FeatureValue;
  multivariateAllocations: AllocationView[];
}

export interface IdentityView {
  identifier: string;
  environmentId: number;
  createdAt: string;
  traits: Record<string, TraitValue>;
  overrides: IdentityOverrideView[];
}

export interface AuditEntryView {
  position: number;
  stream: string;
  revision: number;
  type: string;
  occurredAt: string;
  actor: Actor;
  correlationId: string;
  data: unknown;
}

/** The one shape of every collection the admin API returns. */
export interface Page<T> {
  results: T[];
  /** Cursor for the next page (`?after=`), or null when this is the last. */
  next: string | null;
}

/**
 * Where an item sorts in its collection: numbers (ids, priorities) or one text (an identifier).
 * Pages follow this order, so an item created or removed between two requests never moves
 * another item across a page boundary.
 */
export type SortKey = readonly (number | string)[];
export type SortKeyShape = readonly ('number' | 'string')[];

export interface PageRequest {
  /** The key of the last item of the previous page (decoded from `?after=`). */
  readonly after?: SortKey;
  readonly limit: number;
}

function compareKeys(a: SortKey, b: SortKey): number {
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const x = a[index] as number | string;
    const y = b[index] as number | string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** A cursor's text: numbers joined by dots (`42`, `7.3`), or the text of a one-text key as it is. */
export const encodeCursor = (key: SortKey): string => key.map(String).join('.');

/** The key a cursor names, or null when the text is not a cursor of that shape. */
export function decodeCursor(text: string, shape: SortKeyShape): SortKey | null {
  if (shape.length === 1 && shape[0] === 'string') return text.length > 0 && text.length <= 2000 ? [text] : null;
  const parts = text.split('.');
  if (parts.length !== shape.length || shape.some((kind) => kind !== 'number')) return null;
  return parts.every((part) => /^\d{1,15}$/.test(part)) ? parts.map(Number) : null;
}

/** One page of `items` in key order, after `request.after`. */
export function paginate<T>(items: readonly T[], keyOf: (item: T) => SortKey, request: PageRequest): Page<T> {
  const { after } = request;
  const rest = items
    .map((item) => ({ key: keyOf(item), item }))
    .filter(({ key }) => after === undefined || compareKeys(key, after) > 0)
    .sort((a, b) => compareKeys(a.key, b.key));
  const page = rest.slice(0, request.limit);
  const last = page[page.length - 1];
  return { results: page.map(({ item }) => item), next: rest.length > page.length && last ? encodeCursor(last.key) : null };
}

export const userView = (user: User, organisations: { organisation: Organisation; role: Role }[]): UserView => ({
  id: user.userId,
  email: user.email,
  name: user.name,
  isSuperuser: user.isSuperuser,
  createdAt: user.registeredAt,
  organisations: organisations.map(({ organisation, role }) => ({ id: organisation.organisationId, name: organisation.name, role })),
});

export const apiKeyView = (key: StoredApiKey | OrganisationApiKey): ApiKeyView => ({
  id: key.keyId,
  name: key.name,
  prefix: key.prefix,
  ...('role' in key ? { role: key.role } : {}),
  createdAt: key.createdAt,
  revokedAt: key.revokedAt,
});

export const organisationView = (organisation: Organisation): OrganisationView => ({
  id: organisation.organisationId,
  name: organisation.name,
  createdAt: organisation.createdAt,
});

export const invitationView = (organisation: Organisation, invitation: Invitation, status: InvitationStatus): InvitationView => ({
  id: invitation.invitationId,
  organisation: { id: organisation.organisationId, name: organisation.name },
  email: invitation.email,
  role: invitation.role,
  status,
  createdAt: invitation.createdAt,
  expiresAt: invitation.expiresAt,
  answeredAt: invitation.closed?.at ?? null,
});

export const projectView = (project: Project): ProjectView => ({
  id: project.projectId,
  organisationId: project.organisationId,
  name: project.name,
  hideDisabledFlags: project.hideDisabledFlags,
  createdAt: project.createdAt,
});

export const environmentView = (project: Project, environment: Environment): EnvironmentView => ({
  id: environment.environmentId,
  projectId: project.projectId,
  name: environment.name,
  description: environment.description,
  apiKey: environment.apiKey,
  ...environment.settings,
  createdAt: environment.createdAt,
});

export const tagView = (project: Project, tag: Tag): TagView => ({
  id: tag.tagId,
  projectId: project.projectId,
  label: tag.label,
  color: tag.color,
  description: tag.description,
});

export const featureView = (project: Project, feature: Feature): FeatureView => ({
  id: feature.featureId,
  projectId: project.projectId,
  name: feature.name,
  description: feature.description,
  type: feature.type,
  defaultEnabled: feature.defaultEnabled,
  initialValue: feature.initialValue,
  tags: [...feature.tagIds],
  isArchived: feature.isArchived,
  isServerKeyOnly: feature.isServerKeyOnly,
  multivariateOptions: feature.options.map((option) => ({
    id: option.optionId,
    value: option.value,
    key: option.key,
    defaultPercentageAllocation: option.defaultAllocation,
  })),
  createdAt: feature.createdAt,
});

const allocationsView = (state: Pick<FeatureStateValue, 'allocations'>): AllocationView[] =>
  state.allocations.map((allocation) => ({ optionId: allocation.optionId, percentage: allocation.percentage }));

export const featureStateView = (environment: Environment, feature: Feature, state: FeatureStateValue): FeatureStateView => ({
  environmentId: environment.environmentId,
  featureId: feature.featureId,
  featureName: feature.name,
  featureStateId: state.featureStateId,
  enabled: state.enabled,
  value: state.value,
  multivariateAllocations: allocationsView(state),
});

export const segmentView = (project: Project, segment: Segment): SegmentView => ({
  id: segment.segmentId,
  projectId: project.projectId,
  name: segment.name,
  description: segment.description,
  rules: [...segment.rules],
  createdAt: segment.createdAt,
});

export const segmentOverrideView = (
  project: Project,
  environment: Environment,
  feature: Feature,
  override: SegmentOverride,
  priority: number,
): SegmentOverrideView => ({
  environmentId: environment.environmentId,
  featureId: feature.featureId,
  featureName: feature.name,
  segmentId: override.segmentId,
  segmentName: project.segments.get(override.segmentId)?.name ?? '',
  priority,
  featureStateId: override.featureStateId,
  enabled: override.enabled,
  value: override.value,
  multivariateAllocations: allocationsView(override),
});

export const identityView = (project: Project | undefined, identity: Identity): IdentityView => ({
  identifier: identity.identifier,
  environmentId: identity.environmentId,
  createdAt: identity.createdAt,
  traits: Object.fromEntries([...identity.traits].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  overrides: [...identity.overrides.values()]
    .filter((override) => project?.features.has(override.featureId) ?? false)
    .map((override) => ({
      featureId: override.featureId,
      featureName: project?.features.get(override.featureId)?.name ?? '',
      enabled: override.enabled,
      value: override.value,
      multivariateAllocations: allocationsView(override),
    })),
});

export const auditEntryView = (event: RecordedEvent<AdminEvent>): AuditEntryView => ({
  position: event.globalPosition,
  stream: event.streamName,
  revision: event.streamRevision,
  type: event.type,
  occurredAt: event.metadata.occurredAt,
  actor: event.metadata.actor,
  correlationId: event.metadata.correlationId,
  data: event.data,
});
