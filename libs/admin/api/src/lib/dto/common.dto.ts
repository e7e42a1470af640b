import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsNumber, IsString, Length, Max, Min, ValidateNested } from 'class-validator';
import { Optional } from './validators';

export const FEATURE_VALUE_SCHEMA: ApiPropertyOptions = {
  oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'boolean' }],
  nullable: true,
};

export class AllocationDto {
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Id of one of the feature’s multivariate options' })
  @IsInt()
  @Min(1)
  optionId!: number;

  @ApiProperty({ type: 'number', minimum: 0, maximum: 100 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(100)
  percentage!: number;
}

/** `multivariateAllocations`: each 0..100; the sum (at most 100) is checked by the domain. */
export class WithAllocationsDto {
  @ApiPropertyOptional({ type: [AllocationDto] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => AllocationDto)
  multivariateAllocations?: AllocationDto[];
}

export class NameDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;
}
