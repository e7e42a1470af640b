import { FEATURE_TYPES, type FeatureType, type FeatureValue } from '@flagline/admin-domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsString, Length, Max, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';
import { FEATURE_VALUE_SCHEMA } from './common.dto';
import { IsFeatureValue, Optional } from './validators';

export class MultivariateOptionDto {
  @ApiProperty(FEATURE_VALUE_SCHEMA)
  @IsFeatureValue()
  value!: FeatureValue;

  @ApiPropertyOptional({ type: 'string', nullable: true, minLength: 1, maxLength: 200, description: 'Variant key reported by evaluation' })
  @Optional()
  @ValidateIfNotNull()
  @IsString()
  @Length(1, 200)
  key?: string | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 0 })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  defaultPercentageAllocation?: number;
}

export class ChangeMultivariateOptionDto {
  @ApiPropertyOptional(FEATURE_VALUE_SCHEMA)
  @Optional()
  @IsFeatureValue()
  value?: FeatureValue;

  @ApiPropertyOptional({ type: 'string', nullable: true, minLength: 1, maxLength: 200 })
  @Optional()
  @ValidateIfNotNull()
  @IsString()
  @Length(1, 200)
  key?: string | null;

  @ApiPropertyOptional({ minimum: 0, maximum: 100 })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  defaultPercentageAllocation?: number;
}

export class CreateFeatureDto {
  @ApiProperty({ minLength: 1, maxLength: 150, description: 'Unique within the project (case-insensitive)' })
  @IsString()
  @Length(1, 150)
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ enum: FEATURE_TYPES, description: 'MULTIVARIATE when options are given, else STANDARD' })
  @Optional()
  @IsIn(FEATURE_TYPES)
  type?: FeatureType;

  @ApiPropertyOptional({ default: false })
  @Optional()
  @IsBoolean()
  defaultEnabled?: boolean;

  @ApiPropertyOptional(FEATURE_VALUE_SCHEMA)
  @Optional()
  @IsFeatureValue()
  initialValue?: FeatureValue;

  @ApiPropertyOptional({ type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 50, description: 'Tag ids of the project' })
  @Optional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsInt({ each: true })
  @Min(1, { each: true })
  tags?: number[];

  @ApiPropertyOptional({ default: false })
  @Optional()
  @IsBoolean()
  isServerKeyOnly?: boolean;

  @ApiPropertyOptional({ type: [MultivariateOptionDto] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => MultivariateOptionDto)
  multivariateOptions?: MultivariateOptionDto[];
}

export class ChangeFeatureDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 150 })
  @Optional()
  @IsString()
  @Length(1, 150)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional()
  @Optional()
  @IsBoolean()
  defaultEnabled?: boolean;

  @ApiPropertyOptional(FEATURE_VALUE_SCHEMA)
  @Optional()
  @IsFeatureValue()
  initialValue?: FeatureValue;

  @ApiPropertyOptional({ type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 50 })
  @Optional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsInt({ each: true })
  @Min(1, { each: true })
  tags?: number[];

  @ApiPropertyOptional()
  @Optional()
  @IsBoolean()
  isServerKeyOnly?: boolean;

  @ApiPropertyOptional({ description: 'Archived features still evaluate; they are hidden from day-to-day lists' })
  @Optional()
  @IsBoolean()
  isArchived?: boolean;
}

/** For nullable fields: null is a value of its own and skips the other checks. */
function ValidateIfNotNull(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== null);
}
