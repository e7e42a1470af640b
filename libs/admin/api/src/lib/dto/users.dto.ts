import { ROLES, type Role } from '@flagline/admin-domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsInt, IsString, Length, Min, ValidateIf } from 'class-validator';
import { Optional } from './validators';

export class RegisterUserDto {
  @ApiProperty({ format: 'email' })
  @IsEmail()
  @Length(3, 254)
  email!: string;

  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;
}

export class ChangeUserDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @Optional()
  @IsString()
  @Length(1, 200)
  name?: string;
}

export class IssueApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;
}

export class IssueOrganisationApiKeyDto extends IssueApiKeyDto {
  @ApiPropertyOptional({ enum: ROLES, default: 'admin' })
  @Optional()
  @IsIn(ROLES)
  role?: Role;
}

export class AddMemberDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, description: 'The user, by id (or give email)' })
  @ValidateIf((dto: AddMemberDto) => dto.userId !== undefined || dto.email === undefined)
  @IsInt()
  @Min(1)
  userId?: number;

  @ApiPropertyOptional({ format: 'email', description: 'The user, by email (or give userId)' })
  @ValidateIf((dto: AddMemberDto) => dto.email !== undefined)
  @IsEmail()
  email?: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;
}

export class ChangeMemberDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;
}
