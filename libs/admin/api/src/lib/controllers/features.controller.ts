import type { AdminApplication, RequestContext } from '@flagline/admin-application';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ChangeFeatureDto, ChangeMultivariateOptionDto, CreateFeatureDto, MultivariateOptionDto } from '../dto/features.dto';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { ApiKeyGuard } from '../http/api-key.guard';
import { IdPipe, OptionalBooleanPipe, OptionalIdPipe } from '../http/id.pipe';
import { Caller, IfMatch } from '../http/request-context';
import { HistoryQueryPipe, type HistoryOptions } from './history.query';

@ApiTags('features')
@ApiSecurity('api-key')
@UseGuards(ApiKeyGuard)
@Controller('projects/:projectId/features')
export class FeaturesController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Get()
  @ApiQuery({ name: 'includeArchived', required: false, type: Boolean })
  @ApiQuery({ name: 'tag', required: false, type: Number })
  @ApiQuery({ name: 'search', required: false, type: String })
  list(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Query('includeArchived', OptionalBooleanPipe) includeArchived?: boolean,
    @Query('tag', OptionalIdPipe) tag?: number,
    @Query('search') search?: string,
  ) {
    return this.app.features.list(caller, projectId, {
      ...(includeArchived !== undefined ? { includeArchived } : {}),
      ...(tag !== undefined ? { tag } : {}),
      ...(search !== undefined ? { search } : {}),
    });
  }

  @Post()
  @ApiOperation({ summary: 'Create a feature; it gets a state in every environment of the project' })
  create(@Caller() caller: RequestContext, @Param('projectId', IdPipe) projectId: number, @Body() body: CreateFeatureDto) {
    return this.app.features.create(caller, projectId, body);
  }

  @Get(':featureId')
  get(@Caller() caller: RequestContext, @Param('projectId', IdPipe) projectId: number, @Param('featureId', IdPipe) featureId: number) {
    return this.app.features.get(caller, projectId, featureId);
  }

  @Patch(':featureId')
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
  async delete(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('featureId', IdPipe) featureId: number,
    @IfMatch() revision?: number,
  ) {
    await this.app.features.delete(caller, projectId, featureId, revision);
  }

  @Get(':featureId/history')
  history(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('featureId', IdPipe) featureId: number,
    @Query(HistoryQueryPipe) history: HistoryOptions,
  ) {
    return this.app.audit.history(caller, { kind: 'feature', projectId, featureId }, history);
  }

  @Post(':featureId/multivariate-options')
  addOption(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('featureId', IdPipe) featureId: number,
    @Body() body: MultivariateOptionDto,
  ) {
    return this.app.features.addOption(caller, projectId, featureId, body);
  }

  @Patch(':featureId/multivariate-options/:optionId')
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
  async removeOption(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('featureId', IdPipe) featureId: number,
    @Param('optionId', IdPipe) optionId: number,
  ) {
    await this.app.features.removeOption(caller, projectId, featureId, optionId);
  }
}
