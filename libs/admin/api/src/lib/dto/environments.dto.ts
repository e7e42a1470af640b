import type { FeatureValue, TraitValue } from '@flagline/admin-domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsInt, IsString, Length, MaxLength, Min, ValidateIf } from 'class-validator';
import { FEATURE_VALUE_SCHEMA, WithAllocationsDto } from './common.dto';
import { IsFeatureValue, IsTraitMap, Optional, RawTraits } from './validators';

class EnvironmentSettingsDto {
  @ApiPropertyOptional({ type: 'boolean', nullable: true, description: 'Hide disabled flags from SDKs; null follows the project' })
  @Optional()
  @ValidateIf((_object: object, value: unknown) => value !== null)
  @IsBoolean()
  hideDisabledFlags?: boolean | null;

  @ApiPropertyOptional({ default: true, description: 'Let client-side keys store traits' })
  @Optional()
  @IsBoolean()
  allowClientTraits?: boolean;

  @ApiPropertyOptional({ default: false })
  @Optional()
  @IsBoolean()
  hideSensitiveData?: boolean;

  @ApiPropertyOptional({ default: true })
  @Optional()
  @IsBoolean()
  useIdentityCompositeKeyForHashing?: boolean;

  @ApiPropertyOptional({ default: true })
  @Optional()
  @IsBoolean()
  useIdentityOverridesInLocalEval?: boolean;
}

export class CreateEnvironmentDto extends EnvironmentSettingsDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class ChangeEnvironmentDto extends EnvironmentSettingsDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @Optional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class CloneEnvironmentDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class ChangeFeatureStateDto extends WithAllocationsDto {
  @ApiPropertyOptional()
  @Optional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional(FEATURE_VALUE_SCHEMA)
  @Optional()
  @IsFeatureValue()
  value?: FeatureValue;
}

export class CreateSegmentOverrideDto extends ChangeFeatureStateDto {
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Feature id (of this environment’s project)' })
  @IsInt()
  @Min(1)
  feature!: number;

  @ApiProperty({ type: 'integer', minimum: 1, description: 'Segment id (of this environment’s project)' })
  @IsInt()
  @Min(1)
  segment!: number;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: '0 is the strongest; default: weakest' })
  @Optional()
  @IsInt()
  @Min(0)
  priority?: number;
}

export class ReorderSegmentOverridesDto {
  @ApiProperty({ type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 500, description: 'Every overridden segment of the feature, strongest first' })
  @IsArray()
  @ArrayMaxSize(500)
  @IsInt({ each: true })
  @Min(1, { each: true })
  segmentIds!: number[];
}

export class CreateIdentityDto {
  @ApiProperty({ minLength: 1, maxLength: 2000 })
  @IsString()
  @Length(1, 2000)
  identifier!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } })
  @Optional()
  @RawTraits()
  @IsTraitMap()
  traits?: Record<string, TraitValue | null>;
}

export class TraitsDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }], nullable: true },
    description: 'Trait values; null removes a trait',
  })
  @RawTraits()
  @IsTraitMap()
  traits!: Record<string, TraitValue | null>;
}

export class IdentityOverrideDto extends WithAllocationsDto {
  @ApiProperty()
  @IsBoolean()
  enabled!: boolean;

  @ApiPropertyOptional({ ...FEATURE_VALUE_SCHEMA, description: 'Default: the environment’s value' })
  @Optional()
  @IsFeatureValue()
  value?: FeatureValue;
}
