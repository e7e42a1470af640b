import { OPERATORS, RULE_TYPES, type ConditionValueInput, type Operator, type RuleType } from '@flagline/admin-domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsString, Length, MaxLength, ValidateNested } from 'class-validator';
import { IsConditionProperty, IsConditionValue, Optional } from './validators';

export class ConditionDto {
  @ApiPropertyOptional({
    description:
      'A trait name, or a JSONPath into the evaluation context such as $.identity.identifier; blank for a percentage split on the identity. ' +
      "$.flags.<feature name>.enabled or .value reads another flag of the project ($.flags['my flag'].enabled for names shorthand cannot spell): " +
      'the features overridden for this segment then depend on it, and a dependency cycle is refused (409 FEATURE.DEPENDENCY_CYCLE)',
  })
  @IsConditionProperty()
  property?: string;

  @ApiProperty({ enum: OPERATORS })
  @IsIn(OPERATORS)
  operator!: Operator;

  @ApiPropertyOptional({
    description: 'Checked per operator: a REGEX must compile, MODULO is "divisor|remainder", PERCENTAGE_SPLIT is 0..100, a value ending in ":semver" must be a semantic version, IN takes a comma list or a JSON array',
    oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: { type: 'string' } }],
    nullable: true,
  })
  @IsConditionValue()
  value?: ConditionValueInput;

  @ApiPropertyOptional({ maxLength: 500 })
  @Optional()
  @IsString()
  @MaxLength(500)
  description?: string;
}

export class RuleDto {
  @ApiProperty({ enum: RULE_TYPES })
  @IsIn(RULE_TYPES)
  type!: RuleType;

  @ApiPropertyOptional({ type: [ConditionDto] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => ConditionDto)
  conditions?: ConditionDto[];

  @ApiPropertyOptional({ type: () => [RuleDto] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => RuleDto)
  rules?: RuleDto[];
}

export class CreateSegmentDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiProperty({ type: [RuleDto], description: 'Every top-level rule must match' })
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => RuleDto)
  rules!: RuleDto[];
}

export class ChangeSegmentDto {
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

  @ApiPropertyOptional({ type: [RuleDto] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => RuleDto)
  rules?: RuleDto[];
}
