import { paginate, type AdminApplication, type PageRequest, type RequestContext } from '@flagline/admin-application';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ChangeFeatureDto, ChangeMultivariateOptionDto, CreateFeatureDto, MultivariateOptionDto } from '../dto/features.dto';
import { AuditEntryView, FeatureView } from '../dto/views.dto';
import { AdminErrors, Changes, Creates, Deletes, Lists, Reads } from '../http/api-responses';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { ApiKeyGuard } from '../http/api-key.guard';
import { ReadsAsOf } from '../http/as-of';
import { IdPipe, OptionalBooleanPipe, OptionalIdPipe } from '../http/id.pipe';
import { Caller, IfMatch } from '../http/request-context';
import { HistoryQueryPipe, type HistoryOptions } from './history.query';
import { BY_ID } from './page.query';

@ApiTags('features')
@ApiSecurity('api-key')
@AdminErrors()
@UseGuards(ApiKeyGuard)
@Controller('projects/:projectId/features')
export class FeaturesController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Get()
  @ReadsAsOf()
  @Lists(FeatureView)
  @ApiQuery({ name: 'includeArchived', required: false, type: Boolean })
  @ApiQuery({ name: 'tag', required: false, type: Number })
  @ApiQuery({ name: 'search', required: false, type: String })
  async list(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Query(BY_ID) page: PageRequest,
    @Query('includeArchived', OptionalBooleanPipe) includeArchived?: boolean,
    @Query('tag', OptionalIdPipe) tag?: number,
    @Query('search') search?: string,
  ) {
    const features = await this.app.features.list(caller, projectId, {
      ...(includeArchived !== undefined ? { includeArchived } : {}),
      ...(tag !== undefined ? { tag } : {}),
      ...(search !== undefined ? { search } : {}),
    });
    return paginate(features, (feature) => [feature.id], page);
  }

  @Post()
  @Creates(FeatureView)
  @ApiOperation({ summary: 'Create a feature; it gets a state in every environment of the project' })
  create(@Caller() caller: RequestContext, @Param('projectId', IdPipe) projectId: number, @Body() body: CreateFeatureDto) {
    return this.app.features.create(caller, projectId, body);
  }

  @Get(':featureId')
  @ReadsAsOf()
  @Reads(FeatureView)
  get(@Caller() caller: RequestContext, @Param('projectId', IdPipe) projectId: number, @Param('featureId', IdPipe) featureId: number) {
    return this.app.features.get(caller, projectId, featureId);
  }

  @Patch(':featureId')
  @Changes(FeatureView, { ifMatch: true })
  @ApiOperation({ summary: 'Rename, describe, tag, archive or change the defaults of a feature' })
  change(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('featureId', IdPipe) featureId: number,
    @Body() body: ChangeFeatureDto,
    @IfMatch() revision?: number,
  ) {
    return this.app.features.change(caller, projectId, featureId, body, revision);
  }

  @Delete(':featureId')
  @HttpCode(204)
  @Deletes({ ifMatch: true })
  async delete(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('featureId', IdPipe) featureId: number,
    @IfMatch() revision?: number,
  ) {
    await this.app.features.delete(caller, projectId, featureId, revision);
  }

  @Get(':featureId/history')
  @Lists(AuditEntryView)
  history(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('featureId', IdPipe) featureId: number,
    @Query(HistoryQueryPipe) history: HistoryOptions,
  ) {
    return this.app.audit.history(caller, { kind: 'feature', projectId, featureId }, history);
  }

  @Post(':featureId/multivariate-options')
  @Creates(FeatureView)
  addOption(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('featureId', IdPipe) featureId: number,
    @Body() body: MultivariateOptionDto,
  ) {
    return this.app.features.addOption(caller, projectId, featureId, body);
  }

  @Patch(':featureId/multivariate-options/:optionId')
  @Changes(FeatureView)
  changeOption(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('featureId', IdPipe) featureId: number,
    @Param('optionId', IdPipe) optionId: number,
    @Body() body: ChangeMultivariateOptionDto,
  ) {
    return this.app.features.changeOption(caller, projectId, featureId, optionId, body);
  }

  @Delete(':featureId/multivariate-options/:optionId')
  @HttpCode(204)
  @Deletes()
  async removeOption(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('featureId', IdPipe) featureId: number,
    @Param('optionId', IdPipe) optionId: number,
  ) {
    await this.app.features.removeOption(caller, projectId, featureId, optionId);
  }
}
