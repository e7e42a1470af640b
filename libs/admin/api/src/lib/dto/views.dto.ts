import { FEATURE_TYPES, INVITATION_STATUSES, OPERATORS, ROLES, RULE_TYPES } from '@flagline/admin-domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { FEATURE_VALUE_SCHEMA } from './common.dto';
import { DEPENDENTS, DEPENDS_ON, FeatureDependencyView } from './feature-dependencies.dto';

/*
 * Response shapes of the admin API, for the OpenAPI document only: the application's views
 * (libs/admin/application views.ts) are what is sent; these classes describe them field by field.
 */

const TIMESTAMP = { type: 'string', format: 'date-time' } as const;
const ID = { type: 'integer', minimum: 1 } as const;

export class FieldErrorView {
  @ApiProperty({ type: 'string', description: 'Path of the bad field or parameter, like `rules[0].conditions[1].value` or `after`' })
  field!: string;

  @ApiProperty({ type: 'string' })
  message!: string;
}

export class ApiErrorView {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599 })
  statusCode!: number;

  @ApiProperty({ type: 'string', description: 'The status reason, like `Not Found`' })
  error!: string;

  @ApiProperty({ type: 'string', description: 'A stable code, like `FEATURE.NAME_TAKEN` or `VALIDATION_FAILED`' })
  code!: string;

  @ApiProperty({ type: 'string' })
  message!: string;

  @ApiPropertyOptional({ type: [FieldErrorView], description: 'Every bad field (400)' })
  errors?: FieldErrorView[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'What a 409 is about, where the error knows: `cycle` ([{id, name}]) for FEATURE.DEPENDENCY_CYCLE, `dependents` and `segments` for FEATURE.HAS_DEPENDENTS',
  })
  details?: Record<string, unknown>;
}

/** An organisation by id and name, as other views name it. */
export class InvitationOrganisationView {
  @ApiProperty(ID)
  id!: number;

  @ApiProperty({ type: 'string' })
  name!: string;
}

export class UserOrganisationView extends InvitationOrganisationView {
  @ApiProperty({ enum: ROLES })
  role!: string;
}

export class UserView {
  @ApiProperty(ID)
  id!: number;

  @ApiProperty({ type: 'string', format: 'email' })
  email!: string;

  @ApiProperty({ type: 'string' })
  name!: string;

  @ApiProperty({ type: 'boolean' })
  isSuperuser!: boolean;

  @ApiProperty(TIMESTAMP)
  createdAt!: string;

  @ApiProperty({ type: [UserOrganisationView] })
  organisations!: UserOrganisationView[];
}

export class ApiKeyView {
  @ApiProperty({ type: 'string' })
  id!: string;

  @ApiProperty({ type: 'string' })
  name!: string;

  @ApiProperty({ type: 'string', description: 'The first characters of the key, to recognise it' })
  prefix!: string;

  @ApiPropertyOptional({ enum: ROLES, description: 'Organisation keys only' })
  role?: string;

  @ApiProperty(TIMESTAMP)
  createdAt!: string;

  @ApiProperty({ ...TIMESTAMP, nullable: true })
  revokedAt!: string | null;

  @ApiPropertyOptional({ type: 'string', description: 'The full key: only in the answer that issues it' })
  key?: string;
}

export class OrganisationView extends InvitationOrganisationView {
  @ApiProperty(TIMESTAMP)
  createdAt!: string;
}

export class MyOrganisationView extends OrganisationView {
  @ApiProperty({ enum: ROLES, description: 'The caller’s role in the organisation' })
  role!: string;
}

export class MemberView {
  @ApiProperty(ID)
  userId!: number;

  @ApiProperty({ type: 'string', format: 'email' })
  email!: string;

  @ApiProperty({ type: 'string' })
  name!: string;

  @ApiProperty({ enum: ROLES })
  role!: string;
}

export class ProjectView {
  @ApiProperty(ID)
  id!: number;

  @ApiProperty(ID)
  organisationId!: number;

  @ApiProperty({ type: 'string' })
  name!: string;

  @ApiProperty({ type: 'boolean' })
  hideDisabledFlags!: boolean;

  @ApiProperty(TIMESTAMP)
  createdAt!: string;
}

export class EnvironmentView {
  @ApiProperty(ID)
  id!: number;

  @ApiProperty(ID)
  projectId!: number;

  @ApiProperty({ type: 'string' })
  name!: string;

  @ApiProperty({ type: 'string' })
  description!: string;

  @ApiProperty({ type: 'string', description: 'The client-side key' })
  apiKey!: string;

  @ApiProperty({ type: 'boolean', nullable: true, description: 'null follows the project' })
  hideDisabledFlags!: boolean | null;

  @ApiProperty({ type: 'boolean' })
  allowClientTraits!: boolean;

  @ApiProperty({ type: 'boolean' })
  hideSensitiveData!: boolean;

  @ApiProperty({ type: 'boolean' })
  useIdentityCompositeKeyForHashing!: boolean;

  @ApiProperty({ type: 'boolean' })
  useIdentityOverridesInLocalEval!: boolean;

  @ApiProperty(TIMESTAMP)
  createdAt!: string;
}

export class TagView {
  @ApiProperty(ID)
  id!: number;

  @ApiProperty(ID)
  projectId!: number;

  @ApiProperty({ type: 'string' })
  label!: string;

  @ApiProperty({ type: 'string' })
  color!: string;

  @ApiProperty({ type: 'string' })
  description!: string;
}

export class MultivariateOptionView {
  @ApiProperty(ID)
  id!: number;

  @ApiProperty(FEATURE_VALUE_SCHEMA)
  value!: string | number | boolean | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'Variant key reported by evaluation' })
  key!: string | null;

  @ApiProperty({ type: 'number', minimum: 0, maximum: 100 })
  defaultPercentageAllocation!: number;
}

export class FeatureView {
  @ApiProperty(ID)
  id!: number;

  @ApiProperty(ID)
  projectId!: number;

  @ApiProperty({ type: 'string' })
  name!: string;

  @ApiProperty({ type: 'string' })
  description!: string;

  @ApiProperty({ enum: FEATURE_TYPES })
  type!: string;

  @ApiProperty({ type: 'boolean' })
  defaultEnabled!: boolean;

  @ApiProperty(FEATURE_VALUE_SCHEMA)
  initialValue!: string | number | boolean | null;

  @ApiProperty({ type: 'array', items: ID, description: 'Tag ids' })
  tags!: number[];

  @ApiProperty({ type: 'boolean' })
  isArchived!: boolean;

  @ApiProperty({ type: 'boolean' })
  isServerKeyOnly!: boolean;

  @ApiProperty({ type: [MultivariateOptionView] })
  multivariateOptions!: MultivariateOptionView[];

  @ApiProperty(TIMESTAMP)
  createdAt!: string;

  @ApiProperty(DEPENDS_ON)
  dependsOn!: FeatureDependencyView[];

  @ApiProperty(DEPENDENTS)
  dependents!: FeatureDependencyView[];
}

export class AllocationView {
  @ApiProperty(ID)
  optionId!: number;

  @ApiProperty({ type: 'number', minimum: 0, maximum: 100 })
  percentage!: number;
}

/** A feature's state somewhere: an identity's override, and the base of an environment's or a segment's. */
export class IdentityOverrideView {
  @ApiProperty(ID)
  featureId!: number;

  @ApiProperty({ type: 'string' })
  featureName!: string;

  @ApiProperty({ type: 'boolean' })
  enabled!: boolean;

  @ApiProperty(FEATURE_VALUE_SCHEMA)
  value!: string | number | boolean | null;

  @ApiProperty({ type: [AllocationView] })
  multivariateAllocations!: AllocationView[];
}

export class FeatureStateView extends IdentityOverrideView {
  @ApiProperty(ID)
  environmentId!: number;

  @ApiProperty(ID)
  featureStateId!: number;
}

export class ConditionView {
  @ApiProperty({ type: 'string', description: 'Trait name or JSONPath; empty for a percentage split' })
  property!: string;

  @ApiProperty({ enum: OPERATORS })
  operator!: string;

  @ApiProperty({ type: 'string', nullable: true, description: 'null only where the operator ignores it (IS_SET, IS_NOT_SET)' })
  value!: string | null;

  @ApiPropertyOptional({ type: 'string' })
  description?: string;
}

export class RuleView {
  @ApiProperty({ enum: RULE_TYPES })
  type!: string;

  @ApiProperty({ type: [ConditionView] })
  conditions!: ConditionView[];

  @ApiProperty({ type: () => [RuleView] })
  rules!: RuleView[];
}

export class SegmentView {
  @ApiProperty(ID)
  id!: number;

  @ApiProperty(ID)
  projectId!: number;

  @ApiProperty({ type: 'string' })
  name!: string;

  @ApiProperty({ type: 'string' })
  description!: string;

  @ApiProperty({ type: [RuleView] })
  rules!: RuleView[];

  @ApiProperty(TIMESTAMP)
  createdAt!: string;
}

export class SegmentOverrideView extends FeatureStateView {
  @ApiProperty(ID)
  segmentId!: number;

  @ApiProperty({ type: 'string' })
  segmentName!: string;

  @ApiProperty({ type: 'integer', minimum: 0, description: '0 is the strongest' })
  priority!: number;
}

export const TRAIT_VALUE_SCHEMA = { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };

export class IdentityView {
  @ApiProperty({ type: 'string' })
  identifier!: string;

  @ApiProperty(ID)
  environmentId!: number;

  @ApiProperty(TIMESTAMP)
  createdAt!: string;

  @ApiProperty({ type: 'object', additionalProperties: TRAIT_VALUE_SCHEMA, description: 'Trait values by name' })
  traits!: Record<string, string | number | boolean>;

  @ApiProperty({ type: [IdentityOverrideView] })
  overrides!: IdentityOverrideView[];
}

export class ActorView {
  @ApiProperty({ enum: ['user', 'organisation-key', 'environment-key', 'system'] })
  kind!: string;

  @ApiProperty({ type: 'string' })
  id!: string;

  @ApiPropertyOptional({ type: 'string', description: 'Display name at the time of the change' })
  name?: string;
}

export class AuditEntryView {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Position in the whole log' })
  position!: number;

  @ApiProperty({ type: 'string' })
  stream!: string;

  @ApiProperty({ type: 'integer', minimum: 0 })
  revision!: number;

  @ApiProperty({ type: 'string', description: 'The event type, like `FeatureCreated`' })
  type!: string;

  @ApiProperty(TIMESTAMP)
  occurredAt!: string;

  @ApiProperty({ type: ActorView })
  actor!: ActorView;

  @ApiProperty({ type: 'string' })
  correlationId!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What changed: the event’s data, whose shape depends on `type`' })
  data!: Record<string, unknown>;
}

export class AnalyticsDayView {
  @ApiProperty({ type: 'string', format: 'date' })
  day!: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer', minimum: 0 }, description: 'Evaluations per feature name' })
  counts!: Record<string, number>;
}

export class FlagAnalyticsView {
  @ApiProperty(ID)
  environmentId!: number;

  @ApiProperty({ type: 'string', format: 'date' })
  from!: string;

  @ApiProperty({ type: 'string', format: 'date' })
  to!: string;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer', minimum: 0 }, description: 'Evaluations per feature name over the range' })
  totals!: Record<string, number>;

  @ApiProperty({ type: [AnalyticsDayView] })
  days!: AnalyticsDayView[];
}

export class InvitationView {
  @ApiProperty({ type: 'string' })
  id!: string;

  @ApiProperty({ type: InvitationOrganisationView })
  organisation!: InvitationOrganisationView;

  @ApiProperty({ type: 'string', format: 'email' })
  email!: string;

  @ApiProperty({ enum: ROLES })
  role!: string;

  @ApiProperty({ enum: INVITATION_STATUSES })
  status!: string;

  @ApiProperty(TIMESTAMP)
  createdAt!: string;

  @ApiProperty(TIMESTAMP)
  expiresAt!: string;

  @ApiProperty({ ...TIMESTAMP, nullable: true, description: 'When it was accepted, declined or revoked; null while pending or once expired' })
  answeredAt!: string | null;
}
