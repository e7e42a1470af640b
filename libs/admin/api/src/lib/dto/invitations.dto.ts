import { INVITATION_DEFAULT_DAYS, INVITATION_MAX_DAYS, INVITATION_MIN_DAYS, ROLES, type Role } from '@flagline/admin-domain';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsInt, Length, Max, Min } from 'class-validator';
import { Optional } from './validators';

export class InviteMemberDto {
  @ApiProperty({ format: 'email', description: 'Who is invited; the answer is the same whether or not a user has this email' })
  @IsEmail()
  @Length(3, 254)
  email!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;

  @ApiPropertyOptional({ type: 'integer', minimum: INVITATION_MIN_DAYS, maximum: INVITATION_MAX_DAYS, default: INVITATION_DEFAULT_DAYS, description: 'Days until the invitation expires' })
  @Optional()
  @IsInt()
  @Min(INVITATION_MIN_DAYS)
  @Max(INVITATION_MAX_DAYS)
  expiresInDays?: number;
}
