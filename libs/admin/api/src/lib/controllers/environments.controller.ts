import { paginate, type AdminApplication, type PageRequest, type RequestContext } from '@flagline/admin-application';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import {
  ChangeEnvironmentDto,
  ChangeFeatureStateDto,
  CloneEnvironmentDto,
  CreateEnvironmentDto,
  CreateSegmentOverrideDto,
  ReorderSegmentOverridesDto,
} from '../dto/environments.dto';
import { IssueApiKeyDto } from '../dto/users.dto';
import { ApiKeyView, AuditEntryView, EnvironmentView, FeatureStateView, SegmentOverrideView } from '../dto/views.dto';
import { AdminErrors, Changes, Creates, Deletes, Lists, Reads } from '../http/api-responses';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { ApiKeyGuard } from '../http/api-key.guard';
import { Diffs, ReadsAsOf } from '../http/as-of';
import { IdPipe, OptionalIdPipe } from '../http/id.pipe';
import { Caller, IfMatch } from '../http/request-context';
import { HistoryQueryPipe, type HistoryOptions } from './history.query';
import { BY_ID, BY_KEY_ID, PageQueryPipe } from './page.query';

/** Segment overrides: by feature, then by priority (strongest first). */
const BY_FEATURE_AND_PRIORITY = new PageQueryPipe(['number', 'number']);

const ENVIRONMENT_PARAM = { name: 'environment', description: 'Environment id or client-side key' };

@ApiTags('environments')
@ApiSecurity('api-key')
@AdminErrors()
@UseGuards(ApiKeyGuard)
@Controller('projects/:projectId/environments')
export class ProjectEnvironmentsController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Get()
  @ReadsAsOf()
  @Lists(EnvironmentView)
  async list(@Caller() caller: RequestContext, @Param('projectId', IdPipe) projectId: number, @Query(BY_ID) page: PageRequest) {
    return paginate(await this.app.environments.list(caller, projectId), (environment) => [environment.id], page);
  }

  @Post()
  @Creates(EnvironmentView)
  @ApiOperation({ summary: 'Create an environment (organisation admins); every feature gets a state in it' })
  create(@Caller() caller: RequestContext, @Param('projectId', IdPipe) projectId: number, @Body() body: CreateEnvironmentDto) {
    return this.app.environments.create(caller, projectId, body);
  }
}

@ApiTags('environments')
@ApiSecurity('api-key')
@AdminErrors()
@ApiParam(ENVIRONMENT_PARAM)
@UseGuards(ApiKeyGuard)
@Controller('environments/:environment')
export class EnvironmentsController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Get()
  @ReadsAsOf()
  @Reads(EnvironmentView)
  get(@Caller() caller: RequestContext, @Param('environment') environment: string) {
    return this.app.environments.get(caller, environment);
  }

  @Patch()
  @Changes(EnvironmentView, { ifMatch: true })
  @ApiOperation({ summary: 'Rename or change the settings of an environment (organisation admins)' })
  change(@Caller() caller: RequestContext, @Param('environment') environment: string, @Body() body: ChangeEnvironmentDto, @IfMatch() revision?: number) {
    return this.app.environments.change(caller, environment, body, revision);
  }

  @Delete()
  @HttpCode(204)
  @Deletes({ ifMatch: true })
  async delete(@Caller() caller: RequestContext, @Param('environment') environment: string, @IfMatch() revision?: number) {
    await this.app.environments.delete(caller, environment, revision);
  }

  @Post('clone')
  @Creates(EnvironmentView)
  @ApiOperation({ summary: 'Clone: feature states and segment overrides copied, new keys' })
  clone(@Caller() caller: RequestContext, @Param('environment') environment: string, @Body() body: CloneEnvironmentDto) {
    return this.app.environments.clone(caller, environment, body);
  }

  @Get('diff')
  @Diffs('an environment (its settings, server keys, feature states and segment overrides)')
  diff(@Caller() caller: RequestContext, @Param('environment') environment: string, @Query('from') from?: string, @Query('to') to?: string) {
    return this.app.diff.environment(caller, environment, from, to);
  }

  @Get('history')
  @Lists(AuditEntryView)
  history(@Caller() caller: RequestContext, @Param('environment') environment: string, @Query(HistoryQueryPipe) history: HistoryOptions) {
    return this.app.audit.history(caller, { kind: 'environment', environment }, history);
  }

  @Get('api-keys')
  @ReadsAsOf()
  @Lists(ApiKeyView, BY_KEY_ID)
  @ApiOperation({ summary: 'Live server-side keys (prefix `ser.`), by key id' })
  async serverKeys(@Caller() caller: RequestContext, @Param('environment') environment: string, @Query(BY_KEY_ID) page: PageRequest) {
    return paginate(await this.app.environments.listServerKeys(caller, environment), (key) => [key.id], page);
  }

  @Post('api-keys')
  @Creates(ApiKeyView)
  @ApiOperation({ summary: 'Issue a server-side key; the key is shown once' })
  issueServerKey(@Caller() caller: RequestContext, @Param('environment') environment: string, @Body() body: IssueApiKeyDto) {
    return this.app.environments.issueServerKey(caller, environment, body);
  }

  @Delete('api-keys/:keyId')
  @HttpCode(204)
  @Deletes()
  async revokeServerKey(@Caller() caller: RequestContext, @Param('environment') environment: string, @Param('keyId') keyId: string) {
    await this.app.environments.revokeServerKey(caller, environment, keyId);
  }

  @Get('feature-states')
  @ReadsAsOf()
  @Lists(FeatureStateView)
  async featureStates(@Caller() caller: RequestContext, @Param('environment') environment: string, @Query(BY_ID) page: PageRequest) {
    return paginate(await this.app.environments.listFeatureStates(caller, environment), (state) => [state.featureId], page);
  }

  @Get('feature-states/:featureId')
  @ReadsAsOf()
  @Reads(FeatureStateView)
  featureState(@Caller() caller: RequestContext, @Param('environment') environment: string, @Param('featureId', IdPipe) featureId: number) {
    return this.app.environments.getFeatureState(caller, environment, featureId);
  }

  @Patch('feature-states/:featureId')
  @Changes(FeatureStateView, { ifMatch: true })
  @ApiOperation({ summary: 'Change the environment default of a feature: enabled, value, multivariate allocations' })
  changeFeatureState(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Param('featureId', IdPipe) featureId: number,
    @Body() body: ChangeFeatureStateDto,
    @IfMatch() revision?: number,
  ) {
    return this.app.environments.changeFeatureState(caller, environment, featureId, body, revision);
  }

  @Get('segment-overrides')
  @ReadsAsOf()
  @Lists(SegmentOverrideView, BY_FEATURE_AND_PRIORITY)
  @ApiQuery({ name: 'feature', required: false, schema: { type: 'integer', minimum: 1 } })
  async segmentOverrides(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Query(BY_FEATURE_AND_PRIORITY) page: PageRequest,
    @Query('feature', OptionalIdPipe) featureId?: number,
  ) {
    return paginate(await this.app.environments.listSegmentOverrides(caller, environment, featureId), (override) => [override.featureId, override.priority], page);
  }

  @Post('segment-overrides')
  @Creates(SegmentOverrideView)
  @ApiOperation({ summary: 'Override a feature for a segment in this environment' })
  createSegmentOverride(@Caller() caller: RequestContext, @Param('environment') environment: string, @Body() body: CreateSegmentOverrideDto) {
    return this.app.environments.createSegmentOverride(caller, environment, body);
  }

  @Get('segment-overrides/:featureId/:segmentId')
  @ReadsAsOf()
  @Reads(SegmentOverrideView)
  segmentOverride(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Param('featureId', IdPipe) featureId: number,
    @Param('segmentId', IdPipe) segmentId: number,
  ) {
    return this.app.environments.getSegmentOverride(caller, environment, featureId, segmentId);
  }

  @Patch('segment-overrides/:featureId/:segmentId')
  @Changes(SegmentOverrideView, { ifMatch: true })
  changeSegmentOverride(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Param('featureId', IdPipe) featureId: number,
    @Param('segmentId', IdPipe) segmentId: number,
    @Body() body: ChangeFeatureStateDto,
    @IfMatch() revision?: number,
  ) {
    return this.app.environments.changeSegmentOverride(caller, environment, featureId, segmentId, body, revision);
  }

  @Delete('segment-overrides/:featureId/:segmentId')
  @HttpCode(204)
  @Deletes()
  async removeSegmentOverride(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Param('featureId', IdPipe) featureId: number,
    @Param('segmentId', IdPipe) segmentId: number,
  ) {
    await this.app.environments.removeSegmentOverride(caller, environment, featureId, segmentId);
  }

  @Put('features/:featureId/segment-override-order')
  @Changes(SegmentOverrideView, { isArray: true })
  @ApiOperation({ summary: 'Reorder a feature’s segment overrides: the first segment is the strongest' })
  reorder(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Param('featureId', IdPipe) featureId: number,
    @Body() body: ReorderSegmentOverridesDto,
  ) {
    return this.app.environments.reorderSegmentOverrides(caller, environment, featureId, body.segmentIds);
  }
}
