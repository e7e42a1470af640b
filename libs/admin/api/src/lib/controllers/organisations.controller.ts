import { paginate, type AdminApplication, type PageRequest, type RequestContext } from '@flagline/admin-application';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { CreateOrganisationDto, RenameOrganisationDto } from '../dto/projects.dto';
import { AddMemberDto, ChangeMemberDto, IssueOrganisationApiKeyDto } from '../dto/users.dto';
import { ApiKeyView, AuditEntryView, MemberView, MyOrganisationView, OrganisationView } from '../dto/views.dto';
import { AdminErrors, Changes, Creates, Deletes, Lists, Reads } from '../http/api-responses';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { ApiKeyGuard } from '../http/api-key.guard';
import { ReadsAsOf } from '../http/as-of';
import { IdPipe } from '../http/id.pipe';
import { Caller, IfMatch } from '../http/request-context';
import { HistoryQueryPipe, type HistoryOptions } from './history.query';
import { BY_ID, BY_KEY_ID } from './page.query';


@ApiTags('organisations')
@ApiSecurity('api-key')
@AdminErrors()
@UseGuards(ApiKeyGuard)
@Controller('organisations')
export class OrganisationsController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Post()
  @Creates(OrganisationView)
  @ApiOperation({ summary: 'Create an organisation; its creator becomes its admin' })
  create(@Caller() caller: RequestContext, @Body() body: CreateOrganisationDto) {
    return this.app.organisations.create(caller, body);
  }

  @Get()
  @ReadsAsOf()
  @Lists(MyOrganisationView)
  @ApiOperation({ summary: 'Organisations of the caller, with the caller’s role' })
  async list(@Caller() caller: RequestContext, @Query(BY_ID) page: PageRequest) {
    return paginate(await this.app.organisations.list(caller), (organisation) => [organisation.id], page);
  }

  @Get(':organisationId')
  @ReadsAsOf()
  @Reads(OrganisationView)
  get(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number) {
    return this.app.organisations.get(caller, id);
  }

  @Patch(':organisationId')
  @Changes(OrganisationView, { ifMatch: true })
  rename(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Body() body: RenameOrganisationDto, @IfMatch() revision?: number) {
    return this.app.organisations.rename(caller, id, body, revision);
  }

  @Delete(':organisationId')
  @HttpCode(204)
  @Deletes({ ifMatch: true })
  @ApiOperation({ summary: 'Delete an organisation that has no projects left' })
  async delete(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @IfMatch() revision?: number) {
    await this.app.organisations.delete(caller, id, revision);
  }

  @Get(':organisationId/members')
  @ReadsAsOf()
  @Lists(MemberView)
  async members(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Query(BY_ID) page: PageRequest) {
    return paginate(await this.app.organisations.members(caller, id), (member) => [member.userId], page);
  }

  @Post(':organisationId/members')
  @Creates(MemberView)
  @ApiOperation({ summary: 'Add a registered user directly (instance administrator only; organisation admins invite instead, and get 403 whoever the user is)' })
  addMember(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Body() body: AddMemberDto) {
    return this.app.organisations.addMember(caller, id, body);
  }

  @Patch(':organisationId/members/:userId')
  @Changes(MemberView)
  changeMember(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Param('userId', IdPipe) userId: number, @Body() body: ChangeMemberDto) {
    return this.app.organisations.changeMemberRole(caller, id, userId, body.role);
  }

  @Delete(':organisationId/members/:userId')
  @HttpCode(204)
  @Deletes()
  async removeMember(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Param('userId', IdPipe) userId: number) {
    await this.app.organisations.removeMember(caller, id, userId);
  }

  @Get(':organisationId/api-keys')
  @ReadsAsOf()
  @Lists(ApiKeyView, BY_KEY_ID)
  async keys(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Query(BY_KEY_ID) page: PageRequest) {
    return paginate(await this.app.organisations.listKeys(caller, id), (key) => [key.id], page);
  }

  @Post(':organisationId/api-keys')
  @Creates(ApiKeyView)
  @ApiOperation({ summary: 'Issue an organisation API key (admin or member role); the key is shown once' })
  issueKey(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Body() body: IssueOrganisationApiKeyDto) {
    return this.app.organisations.issueKey(caller, id, { name: body.name, role: body.role ?? 'admin' });
  }

  @Delete(':organisationId/api-keys/:keyId')
  @HttpCode(204)
  @Deletes()
  async revokeKey(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Param('keyId') keyId: string) {
    await this.app.organisations.revokeKey(caller, id, keyId);
  }

  @Get(':organisationId/history')
  @Lists(AuditEntryView)
  history(@Caller() caller: RequestContext, @Param('organisationId', IdPipe) id: number, @Query(HistoryQueryPipe) history: HistoryOptions) {
    return this.app.audit.history(caller, { kind: 'organisation', organisationId: id }, history);
  }
}
