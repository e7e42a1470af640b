import { paginate, type AdminApplication, type PageRequest, type RequestContext } from '@flagline/admin-application';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ChangeUserDto, IssueApiKeyDto, RegisterUserDto } from '../dto/users.dto';
import { ApiKeyView, AuditEntryView, UserView } from '../dto/views.dto';
import { AdminErrors, Changes, Creates, Deletes, Lists, Reads } from '../http/api-responses';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { ApiKeyGuard } from '../http/api-key.guard';
import { IdPipe } from '../http/id.pipe';
import { Caller, IfMatch } from '../http/request-context';
import { HistoryQueryPipe, type HistoryOptions } from './history.query';
import { BY_KEY_ID } from './page.query';


@ApiTags('users')
@ApiSecurity('api-key')
@AdminErrors()
@UseGuards(ApiKeyGuard)
@Controller('users')
export class UsersController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Post()
  @Creates(UserView)
  @ApiOperation({ summary: 'Register a user (instance administrator only)' })
  register(@Caller() caller: RequestContext, @Body() body: RegisterUserDto) {
    return this.app.users.register(caller, body);
  }

  @Get('me')
  @Reads(UserView)
  @ApiOperation({ summary: 'The user this key belongs to, with their organisations' })
  me(@Caller() caller: RequestContext) {
    return this.app.users.me(caller);
  }

  @Get(':userId')
  @Reads(UserView)
  get(@Caller() caller: RequestContext, @Param('userId', IdPipe) userId: number) {
    return this.app.users.get(caller, userId);
  }

  @Patch(':userId')
  @Changes(UserView, { ifMatch: true })
  change(@Caller() caller: RequestContext, @Param('userId', IdPipe) userId: number, @Body() body: ChangeUserDto, @IfMatch() revision?: number) {
    return this.app.users.changeProfile(caller, userId, body, revision);
  }

  @Delete(':userId')
  @HttpCode(204)
  @Deletes({ ifMatch: true })
  async delete(@Caller() caller: RequestContext, @Param('userId', IdPipe) userId: number, @IfMatch() revision?: number) {
    await this.app.users.delete(caller, userId, revision);
  }

  @Get(':userId/history')
  @Lists(AuditEntryView)
  @ApiOperation({ summary: 'History of a user: registration, profile and API keys (the user themselves, or the instance administrator)' })
  history(@Caller() caller: RequestContext, @Param('userId', IdPipe) userId: number, @Query(HistoryQueryPipe) history: HistoryOptions) {
    return this.app.audit.history(caller, { kind: 'user', userId }, history);
  }

  @Get(':userId/api-keys')
  @Lists(ApiKeyView, BY_KEY_ID)
  keys(@Caller() caller: RequestContext, @Param('userId', IdPipe) userId: number, @Query(BY_KEY_ID) page: PageRequest) {
    return paginate(this.app.users.listKeys(caller, userId), (key) => [key.id], page);
  }

  @Post(':userId/api-keys')
  @Creates(ApiKeyView)
  @ApiOperation({ summary: 'Issue an API key acting as this user; the key is shown once' })
  issueKey(@Caller() caller: RequestContext, @Param('userId', IdPipe) userId: number, @Body() body: IssueApiKeyDto) {
    return this.app.users.issueKey(caller, userId, body);
  }

  @Delete(':userId/api-keys/:keyId')
  @HttpCode(204)
  @Deletes()
  async revokeKey(@Caller() caller: RequestContext, @Param('userId', IdPipe) userId: number, @Param('keyId') keyId: string) {
    await this.app.users.revokeKey(caller, userId, keyId);
  }
}
