import { paginate, type AdminApplication, type PageRequest, type RequestContext } from '@flagline/admin-application';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ChangeProjectDto, ChangeTagDto, CreateProjectDto, CreateTagDto } from '../dto/projects.dto';
import { AuditEntryView, ProjectView, TagView } from '../dto/views.dto';
import { AdminErrors, Changes, Creates, Deletes, Lists, Reads } from '../http/api-responses';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { ApiKeyGuard } from '../http/api-key.guard';
import { Diffs, ReadsAsOf } from '../http/as-of';
import { IdPipe, OptionalIdPipe } from '../http/id.pipe';
import { Caller, IfMatch } from '../http/request-context';
import { HistoryQueryPipe, type HistoryOptions } from './history.query';
import { BY_ID } from './page.query';

@ApiTags('projects')
@ApiSecurity('api-key')
@AdminErrors()
@UseGuards(ApiKeyGuard)
@Controller('projects')
export class ProjectsController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Post()
  @Creates(ProjectView)
  @ApiOperation({ summary: 'Create a project in an organisation (organisation admins)' })
  create(@Caller() caller: RequestContext, @Body() body: CreateProjectDto) {
    return this.app.projects.create(caller, { organisationId: body.organisation, name: body.name, ...(body.hideDisabledFlags !== undefined ? { hideDisabledFlags: body.hideDisabledFlags } : {}) });
  }

  @Get()
  @ReadsAsOf()
  @Lists(ProjectView)
  @ApiQuery({ name: 'organisation', required: false, schema: { type: 'integer', minimum: 1 } })
  async list(@Caller() caller: RequestContext, @Query(BY_ID) page: PageRequest, @Query('organisation', OptionalIdPipe) organisationId?: number) {
    return paginate(await this.app.projects.list(caller, organisationId), (project) => [project.id], page);
  }

  @Get(':projectId')
  @ReadsAsOf()
  @Reads(ProjectView)
  get(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number) {
    return this.app.projects.get(caller, id);
  }

  @Patch(':projectId')
  @Changes(ProjectView, { ifMatch: true })
  change(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Body() body: ChangeProjectDto, @IfMatch() revision?: number) {
    return this.app.projects.change(caller, id, body, revision);
  }

  @Delete(':projectId')
  @HttpCode(204)
  @Deletes({ ifMatch: true })
  async delete(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @IfMatch() revision?: number) {
    await this.app.projects.delete(caller, id, revision);
  }

  @Get(':projectId/diff')
  @Diffs('a project (its features, segments, tags and every environment)')
  diff(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Query('from') from?: string, @Query('to') to?: string) {
    return this.app.diff.project(caller, id, from, to);
  }

  @Get(':projectId/history')
  @Lists(AuditEntryView)
  @ApiOperation({ summary: 'The whole history of the project, in order' })
  history(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Query(HistoryQueryPipe) history: HistoryOptions) {
    return this.app.audit.history(caller, { kind: 'project', projectId: id }, history);
  }

  @Get(':projectId/tags')
  @ReadsAsOf()
  @Lists(TagView)
  async tags(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Query(BY_ID) page: PageRequest) {
    return paginate(await this.app.projects.listTags(caller, id), (tag) => [tag.id], page);
  }

  @Post(':projectId/tags')
  @Creates(TagView)
  createTag(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Body() body: CreateTagDto) {
    return this.app.projects.createTag(caller, id, body);
  }

  @Get(':projectId/tags/:tagId')
  @ReadsAsOf()
  @Reads(TagView)
  getTag(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Param('tagId', IdPipe) tagId: number) {
    return this.app.projects.getTag(caller, id, tagId);
  }

  @Patch(':projectId/tags/:tagId')
  @Changes(TagView, { ifMatch: true })
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
  @Deletes()
  async deleteTag(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Param('tagId', IdPipe) tagId: number) {
    await this.app.projects.deleteTag(caller, id, tagId);
  }

  @Get(':projectId/tags/:tagId/history')
  @Lists(AuditEntryView)
  tagHistory(@Caller() caller: RequestContext, @Param('projectId', IdPipe) id: number, @Param('tagId', IdPipe) tagId: number, @Query(HistoryQueryPipe) history: HistoryOptions) {
    return this.app.audit.history(caller, { kind: 'tag', projectId: id, tagId }, history);
  }
}
