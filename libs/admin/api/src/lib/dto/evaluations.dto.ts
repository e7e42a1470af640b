import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsString, Length } from 'class-validator';
import { FEATURE_VALUE_SCHEMA } from './common.dto';
import { Optional, RawTraits } from './validators';

const TRAIT_SCALAR = { oneOf: [{ type: 'string', maxLength: 2000 }, { type: 'number' }, { type: 'boolean' }] };

class TraitEntryDto {
  @ApiProperty({ minLength: 1, maxLength: 255 })
  trait_key!: string;

  @ApiProperty({ ...TRAIT_SCALAR, nullable: true, description: 'null removes a stored trait for this evaluation' })
  trait_value!: string | number | boolean | null;
}

/** `POST /environments/:environment/evaluate`. */
export class ExplainEvaluationDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 2000, description: 'The identity; without it (and without traits) the environment flags are explained' })
  @Optional()
  @IsString()
  @Length(1, 2000)
  identifier?: string;

  @ApiPropertyOptional({
    type: [TraitEntryDto],
    maxItems: 200,
    description: 'Traits overlaid on the identity’s stored ones, as identify overlays them (nothing is stored); with no identifier, identify’s derived identity',
  })
  @Optional()
  @RawTraits()
  traits?: unknown;

  @ApiPropertyOptional({ type: [String], maxItems: 500, description: 'Explain only these features (unknown names are a 400 naming each)' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  features?: string[];

  @ApiPropertyOptional({
    type: 'string',
    pattern: '^([0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2}))$',
    description: 'Evaluate as of this point of the log: a log position (positive integer) or an ISO-8601 time with a zone, like 2026-12-06T02:00:00Z. Now when absent.',
  })
  @Optional()
  @IsString()
  asOf?: string;
}

class ExplainedValueView {
  @ApiProperty({ nullable: true, oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] })
  value!: string | number | boolean | null;

  @ApiProperty({ enum: ['None', 'str', 'int', 'float', 'bool'], description: 'The Python type the operator compared (Flagsmith’s semantics)' })
  type!: string;
}

class ExplainedSplitView {
  @ApiProperty({ type: [String], description: '[segment key, split key], the ids hashed' })
  hashed!: string[];

  @ApiProperty({ type: 'number', description: 'The hash percentage, in [0, 100)' })
  percentage!: number;

  @ApiProperty({ type: 'number', nullable: true, description: 'The condition matches when the percentage is not above it' })
  threshold!: number | null;
}

@ApiExtraModels(ExplainedValueView)
class ExplainedConditionView {
  @ApiProperty({ type: 'string', nullable: true })
  operator!: string | null;

  @ApiProperty({ type: 'string', nullable: true, description: 'The trait key or `$.` path read; null when blank (a split on the identity key)' })
  property!: string | null;

  @ApiProperty({ nullable: true, oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: {} }], description: 'The condition’s value as written' })
  expected!: unknown;

  @ApiProperty({ description: 'False for conditions the engine did not need (ALL stops at the first false one, ANY and NONE at the first true one)' })
  evaluated!: boolean;

  @ApiProperty({ allOf: [{ $ref: getSchemaPath(ExplainedValueView) }], nullable: true, description: 'The context value the property resolved to; null when not evaluated' })
  read!: ExplainedValueView | null;

  @ApiProperty({ type: 'boolean', nullable: true })
  matched!: boolean | null;

  @ApiPropertyOptional({ type: ExplainedSplitView })
  split?: ExplainedSplitView;
}

class ExplainedRuleView {
  @ApiProperty({ type: 'string', description: 'ALL, ANY, NONE' })
  type!: string;

  @ApiProperty()
  evaluated!: boolean;

  @ApiProperty({ type: 'boolean', nullable: true })
  matched!: boolean | null;

  @ApiProperty({ type: [ExplainedConditionView] })
  conditions!: ExplainedConditionView[];

  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Sub-rules, in the same shape' })
  rules!: unknown[];
}

class ExplainedSegmentView {
  @ApiProperty({ type: 'string', description: 'The segment id' })
  key!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ type: 'integer', nullable: true, description: 'Priority of its override of the feature: lower wins' })
  priority!: number | null;

  @ApiProperty()
  evaluated!: boolean;

  @ApiProperty()
  matched!: boolean;

  @ApiPropertyOptional({ description: 'Its evaluation cut a flag dependency cycle, so it does not match' })
  cutCycle?: boolean;

  @ApiProperty({ description: 'Its override is the one served' })
  won!: boolean;

  @ApiProperty({ type: [ExplainedRuleView] })
  rules!: ExplainedRuleView[];
}

class ExplainedBucketRangeView {
  @ApiProperty({ type: 'string', nullable: true, description: 'The multivariate option’s key' })
  variant!: string | null;

  @ApiProperty(FEATURE_VALUE_SCHEMA)
  value!: unknown;

  @ApiProperty({ type: 'number' })
  weight!: number;

  @ApiProperty({ type: 'number', nullable: true, description: 'Its place in bucketing order: the multivariate option’s id' })
  priority!: number | null;

  @ApiProperty({ type: 'number' })
  start!: number;

  @ApiProperty({ type: 'number' })
  limit!: number;

  @ApiProperty()
  chosen!: boolean;
}

class ExplainedBucketView {
  @ApiProperty({ type: 'number', description: 'hash%([feature state key, identity key]), in [0, 100)' })
  percentage!: number;

  @ApiProperty({ type: [String] })
  hashed!: string[];

  @ApiProperty({ type: [ExplainedBucketRangeView], description: 'Each option’s range [start, limit), in bucketing order' })
  buckets!: ExplainedBucketRangeView[];

  @ApiProperty({ type: 'string', nullable: true, description: 'The chosen option’s key, or `control` when no range holds the percentage' })
  chosen!: string | null;
}

class ExplainedWinnerView {
  @ApiProperty({ enum: ['IDENTITY_OVERRIDE', 'SEGMENT_OVERRIDE', 'ENVIRONMENT_DEFAULT'] })
  kind!: string;

  @ApiPropertyOptional({ type: 'string', description: 'The winning segment’s id' })
  segment?: string;

  @ApiPropertyOptional()
  name?: string;

  @ApiPropertyOptional({ type: 'integer' })
  priority?: number;
}

@ApiExtraModels(ExplainedBucketView)
class ExplainedWhyView {
  @ApiProperty({ description: 'The identity holds an override of the feature (it wins over every segment)' })
  identityOverride!: boolean;

  @ApiProperty({ type: [ExplainedSegmentView], description: 'Segments overriding the feature, in priority order' })
  segments!: ExplainedSegmentView[];

  @ApiProperty({ type: ExplainedWinnerView })
  winner!: ExplainedWinnerView;

  @ApiProperty({
    allOf: [{ $ref: getSchemaPath(ExplainedBucketView) }],
    nullable: true,
    description: 'Multivariate bucketing of the served state; null without variants or without an identity',
  })
  bucket!: ExplainedBucketView | null;
}

class ListedForView {
  @ApiProperty()
  clientKey!: boolean;

  @ApiProperty()
  serverKey!: boolean;
}

class ExplainedFlagView {
  @ApiProperty()
  feature!: string;

  @ApiProperty({ type: 'integer' })
  featureId!: number;

  @ApiProperty()
  enabled!: boolean;

  @ApiProperty(FEATURE_VALUE_SCHEMA)
  value!: unknown;

  @ApiProperty({ type: 'string', nullable: true, description: 'The multivariate option’s key, `control`, or null' })
  variant!: string | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'The id of the multivariate option served, when a bucket applied' })
  multivariateOptionId!: number | null;

  @ApiProperty({ description: 'As the SDK API reports it, like `TARGETING_MATCH; segment=power users`' })
  reason!: string;

  @ApiProperty({ enum: ['STATIC', 'DEFAULT', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'ERROR'], description: 'As OFREP reports it' })
  ofrepReason!: string;

  @ApiProperty({ type: ListedForView, description: 'Whether an SDK answer with each kind of key lists the flag' })
  listedFor!: ListedForView;

  @ApiProperty({ type: ExplainedWhyView })
  why!: ExplainedWhyView;
}

class ExplainedEnvironmentView {
  @ApiProperty({ type: 'integer' })
  id!: number;

  @ApiProperty()
  name!: string;
}

class ExplainedTraitView {
  @ApiProperty()
  trait_key!: string;

  @ApiProperty(TRAIT_SCALAR)
  trait_value!: string | number | boolean;
}

export class ExplainedEvaluationView {
  @ApiProperty({ type: ExplainedEnvironmentView })
  environment!: ExplainedEnvironmentView;

  @ApiProperty({ type: 'integer', description: 'The log position evaluated at (also in X-Flagline-Position)' })
  position!: number;

  @ApiProperty({ type: 'string', format: 'date-time', description: 'When the event at that position was recorded' })
  time!: string;

  @ApiProperty({ type: 'string', nullable: true })
  identifier!: string | null;

  @ApiProperty({ description: 'The identity was stored at that point: its stored traits and overrides were used' })
  identityStored!: boolean;

  @ApiProperty({ type: [ExplainedTraitView], description: 'The traits evaluated' })
  traits!: ExplainedTraitView[];

  @ApiProperty({ type: [ExplainedFlagView] })
  flags!: ExplainedFlagView[];
}
