import { paginate, type AdminApplication, type PageRequest, type RequestContext } from '@flagline/admin-application';
import { INVITATION_STATUSES, type InvitationStatus } from '@flagline/admin-domain';
import { Body, Controller, Delete, Get, HttpCode, Inject, Injectable, Param, Post, Query, UseGuards, type ArgumentMetadata } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { InviteMemberDto } from '../dto/invitations.dto';
import { InvitationView } from '../dto/views.dto';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { RequestValidationError } from '../http/api-error';
import { ApiKeyGuard } from '../http/api-key.guard';
import { AdminErrors, Changes, Creates, Deletes, Lists } from '../http/api-responses';
import { IdPipe } from '../http/id.pipe';
import { ParameterPipe } from '../http/parameter-check.interceptor';
import { Caller } from '../http/request-context';
import { BY_INVITATION_ID } from './page.query';


/** `?status=` of an organisation's invitation list: one of the statuses, or absent for all. */
@Injectable()
export class InvitationStatusPipe extends ParameterPipe<InvitationStatus | undefined> {
  transform(value: unknown, metadata: ArgumentMetadata): InvitationStatus | undefined {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && (INVITATION_STATUSES as readonly string[]).includes(value)) return value as InvitationStatus;
    throw new RequestValidationError([{ field: metadata.data ?? 'status', message: `must be one of ${INVITATION_STATUSES.join(', ')}` }]);
  }
}

@ApiTags('invitations')
@ApiSecurity('api-key')
@AdminErrors()
@UseGuards(ApiKeyGuard)
@Controller()
export class InvitationsController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Post('organisations/:organisationId/invitations')
  @Creates(InvitationView)
  @ApiOperation({ summary: 'Invite an email to join with a role (organisation admins); the same answer whether or not the email is registered' })
  invite(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Body() body: InviteMemberDto) {
    return this.app.invitations.invite(caller, id, body);
  }

  @Get('organisations/:organisationId/invitations')
  @Lists(InvitationView, BY_INVITATION_ID)
  @ApiOperation({ summary: 'The organisation’s invitations with their status (organisation admins)' })
  @ApiQuery({ name: 'status', required: false, enum: INVITATION_STATUSES })
  list(
    @Caller() caller: RequestContext,
    @Param('organisationId', IdPipe) id: number,
    @Query(BY_INVITATION_ID) page: PageRequest,
    @Query('status', InvitationStatusPipe) status?: InvitationStatus,
  ) {
    return paginate(this.app.invitations.list(caller, id, status), (invitation) => [invitation.id], page);
  }

  @Delete('organisations/:organisationId/invitations/:invitationId')
  @HttpCode(204)
  @Deletes()
  @ApiOperation({ summary: 'Revoke a pending invitation (organisation admins); it stays listed as revoked' })
  async revoke(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Param('invitationId') invitationId: string) {
    await this.app.invitations.revoke(caller, id, invitationId);
  }

  @Get('users/me/invitations')
  @Lists(InvitationView, BY_INVITATION_ID)
  @ApiOperation({ summary: 'Pending invitations addressed to the caller’s email (a user’s key)' })
  mine(@Caller() caller: RequestContext, @Query(BY_INVITATION_ID) page: PageRequest) {
    return paginate(this.app.invitations.mine(caller), (invitation) => [invitation.id], page);
  }

  @Post('invitations/:invitationId/accept')
  @HttpCode(200)
  @Changes(InvitationView)
  @ApiOperation({ summary: 'Accept an invitation addressed to the caller; they join the organisation with its role' })
  accept(@Caller() caller: RequestContext, @Param('invitationId') invitationId: string) {
    return this.app.invitations.accept(caller, invitationId);
  }

  @Post('invitations/:invitationId/decline')
  @HttpCode(200)
  @Changes(InvitationView)
  @ApiOperation({ summary: 'Decline an invitation addressed to the caller' })
  decline(@Caller() caller: RequestContext, @Param('invitationId') invitationId: string) {
    return this.app.invitations.decline(caller, invitationId);
  }
}
