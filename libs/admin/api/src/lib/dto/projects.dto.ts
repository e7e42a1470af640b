import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsHexColor, IsInt, IsString, Length, MaxLength, Min } from 'class-validator';
import { Optional } from './validators';

/**
 * What `IsHexColor` accepts (validator.js's `isHexColor`: 3, 4, 6 or 8 hex digits, `#` optional),
 * as a pattern for the document, so that a client reading it cannot send a colour the API refuses.
 */
export const HEX_COLOR_PATTERN = '^#?([0-9A-Fa-f]{3}|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$';

export class CreateOrganisationDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;
}

export class RenameOrganisationDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @Optional()
  @IsString()
  @Length(1, 200)
  name?: string;
}

export class CreateProjectDto {
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Id of the organisation the project belongs to' })
  @IsInt()
  @Min(1)
  organisation!: number;

  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ default: false })
  @Optional()
  @IsBoolean()
  hideDisabledFlags?: boolean;
}

export class ChangeProjectDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @Optional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional()
  @Optional()
  @IsBoolean()
  hideDisabledFlags?: boolean;
}

export class CreateTagDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @IsString()
  @Length(1, 100)
  label!: string;

  @ApiPropertyOptional({ example: '#3d4db6', pattern: HEX_COLOR_PATTERN })
  @Optional()
  @IsHexColor()
  color?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class ChangeTagDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @Optional()
  @IsString()
  @Length(1, 100)
  label?: string;

  @ApiPropertyOptional({ example: '#3d4db6', pattern: HEX_COLOR_PATTERN })
  @Optional()
  @IsHexColor()
  color?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}
