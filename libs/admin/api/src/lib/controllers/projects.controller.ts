import type { AdminApplication, RequestContext } from '@flagline/admin-application';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ChangeProjectDto, ChangeTagDto, CreateProjectDto, CreateTagDto } from '../dto/projects.dto';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { ApiKeyGuard } from '../http/api-key.guard';
import { IdPipe, OptionalIdPipe } from '../http/id.pipe';
import { Caller, IfMatch } from '../http/request-context';
import { HistoryQueryPipe, type HistoryOptions } from './history.query';

@ApiTags('projects')
@ApiSecurity('api-key')
@UseGuards(ApiKeyGuard)
@Controller('projects')
export class ProjectsController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Post()
  @ApiOperation({ summary: 'Create a project in an organisation (organisation admins)' })
  create(@Caller() caller: RequestContext, @Body() body: CreateProjectDto) {
    return this.app.projects.create(caller, { organisationId: body.organisation, name: body.name, ...(body.hideDisabledFlags !== undefined ? { hideDisabledFlags: body.hideDisabledFlags } : {}) });
  }

  @Get()
  @ApiQuery({ name: 'organisation', required: false, type: Number })
  list(@Caller() caller: RequestContext, @Query('organisation', OptionalIdPipe) organisationId?: number) {
    return this.app.projects.list(caller, organisationId);
  }

  @Get(':projectId')
  get(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number) {
    return this.app.projects.get(caller, id);
  }

  @Patch(':projectId')
  change(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Body() body: ChangeProjectDto, @IfMatch() revision?: number) {
    return this.app.projects.change(caller, id, body, revision);
  }

  @Delete(':projectId')
  @HttpCode(204)
  async delete(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @IfMatch() revision?: number) {
    await this.app.projects.delete(caller, id, revision);
  }

  @Get(':projectId/history')
  @ApiOperation({ summary: 'The whole history of the project, in order' })
  history(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Query(HistoryQueryPipe) history: HistoryOptions) {
    return this.app.audit.history(caller, { kind: 'project', projectId: id }, history);
  }

  @Get(':projectId/tags')
  tags(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number) {
    return this.app.projects.listTags(caller, id);
  }

  @Post(':projectId/tags')
  createTag(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Body() body: CreateTagDto) {
    return this.app.projects.createTag(caller, id, body);
  }

  @Get(':projectId/tags/:tagId')
  getTag(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Param('tagId', IdPipe) tagId: number) {
    return this.app.projects.getTag(caller, id, tagId);
  }

  @Patch(':projectId/tags/:tagId')
  changeTag(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) id: number,
    @Param('tagId', IdPipe) tagId: number,
    @Body() body: ChangeTagDto,
    @IfMatch() revision?: number,
  ) {
    return this.app.projects.changeTag(caller, id, tagId, body, revision);
  }

  @Delete(':projectId/tags/:tagId')
  @HttpCode(204)
  async deleteTag(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Param('tagId', IdPipe) tagId: number) {
    await this.app.projects.deleteTag(caller, id, tagId);
  }

  @Get(':projectId/tags/:tagId/history')
  tagHistory(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Param('tagId', IdPipe) tagId: number, @Query(HistoryQueryPipe) history: HistoryOptions) {
    return this.app.audit.history(caller, { kind: 'tag', projectId: id, tagId }, history);
  }
}
