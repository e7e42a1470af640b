import { paginate, type AdminApplication, type PageRequest, type RequestContext } from '@flagline/admin-application';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ChangeSegmentDto, CreateSegmentDto } from '../dto/segments.dto';
import { AuditEntryView, SegmentView } from '../dto/views.dto';
import { AdminErrors, Changes, Creates, Deletes, Lists, Reads } from '../http/api-responses';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { ApiKeyGuard } from '../http/api-key.guard';
import { ReadsAsOf } from '../http/as-of';
import { IdPipe } from '../http/id.pipe';
import { Caller, IfMatch } from '../http/request-context';
import { HistoryQueryPipe, type HistoryOptions } from './history.query';
import { BY_ID } from './page.query';

@ApiTags('segments')
@ApiSecurity('api-key')
@AdminErrors()
@UseGuards(ApiKeyGuard)
@Controller('projects/:projectId/segments')
export class SegmentsController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Get()
  @ReadsAsOf()
  @Lists(SegmentView)
  async list(@Caller() caller: RequestContext, @Param('projectId', IdPipe) projectId: number, @Query(BY_ID) page: PageRequest) {
    return paginate(await this.app.segments.list(caller, projectId), (segment) => [segment.id], page);
  }

  @Post()
  @Creates(SegmentView)
  @ApiOperation({ summary: 'Create a segment from a tree of ALL/ANY/NONE rules' })
  create(@Caller() caller: RequestContext, @Param('projectId', IdPipe) projectId: number, @Body() body: CreateSegmentDto) {
    return this.app.segments.create(caller, projectId, body);
  }

  @Get(':segmentId')
  @ReadsAsOf()
  @Reads(SegmentView)
  get(@Caller() caller: RequestContext, @Param('projectId', IdPipe) projectId: number, @Param('segmentId', IdPipe) segmentId: number) {
    return this.app.segments.get(caller, projectId, segmentId);
  }

  @Patch(':segmentId')
  @Changes(SegmentView, { ifMatch: true })
  change(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('segmentId', IdPipe) segmentId: number,
    @Body() body: ChangeSegmentDto,
    @IfMatch() revision?: number,
  ) {
    return this.app.segments.change(caller, projectId, segmentId, body, revision);
  }

  @Delete(':segmentId')
  @HttpCode(204)
  @Deletes({ ifMatch: true })
  async delete(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('segmentId', IdPipe) segmentId: number,
    @IfMatch() revision?: number,
  ) {
    await this.app.segments.delete(caller, projectId, segmentId, revision);
  }

  @Get(':segmentId/history')
  @Lists(AuditEntryView)
  history(
    @Caller() caller: RequestContext,
    @Param('projectId', IdPipe) projectId: number,
    @Param('segmentId', IdPipe) segmentId: number,
    @Query(HistoryQueryPipe) history: HistoryOptions,
  ) {
    return this.app.audit.history(caller, { kind: 'segment', projectId, segmentId }, history);
  }
}
