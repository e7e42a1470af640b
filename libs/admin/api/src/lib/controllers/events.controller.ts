import type { AdminApplication, ExportedEvent, RequestContext } from '@flagline/admin-application';
import { Controller, Get, Inject, Logger, Query, Res, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { AdminErrors } from '../http/api-responses';
import { ApiKeyGuard } from '../http/api-key.guard';
import { Caller } from '../http/request-context';
import { CONTENT_TYPES, CSV_COLUMNS, formatBatch } from './export.format';
import { EVENT_TYPES, EXPORT_ENTITY_KINDS, ExportQueryPipe, type ExportRequest } from './export.query';

/** Events gathered before a write: enough to keep write calls few, few enough to keep memory flat. */
const WRITE_EVENTS = 256;

/** Header naming the log position the export covers up to (the head when it started). */
export const EXPORT_HEAD_HEADER = 'X-Flagline-Position';
/** Header naming the position the export starts after. */
export const EXPORT_AFTER_HEADER = 'X-Flagline-Export-After';

/** One NDJSON line of an export. */
const EXPORTED_EVENT_SCHEMA = {
  type: 'object' as const,
  description: 'One line per event, in log order',
  required: ['position', 'id', 'type', 'streamName', 'streamRevision', 'data', 'metadata', 'recordedAt'],
  properties: {
    position: { type: 'integer' as const, description: 'Log position' },
    id: { type: 'string' as const },
    type: { type: 'string' as const },
    streamName: { type: 'string' as const },
    streamRevision: { type: 'integer' as const },
    data: { description: 'The event data as stored' },
    metadata: { type: 'object' as const, description: 'Actor, times, correlation and routing ids, as stored', additionalProperties: true },
    recordedAt: { type: 'string' as const, format: 'date-time' },
    redacted: { type: 'array' as const, items: { type: 'string' as const }, description: 'Fields left out because the caller may not see them' },
  },
};

/** Resolves when the response takes more (or is closed); its listeners go with it. */
function drained(response: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

@ApiTags('events')
@ApiSecurity('api-key')
@AdminErrors()
@UseGuards(ApiKeyGuard)
@Controller('events')
export class EventsController {
  private readonly logger = new Logger('EventsExport');

  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Get('export')
  @ApiOperation({
    summary: 'Export events as stored, streamed',
    description:
      'The events the caller may read, in log order, exactly as stored (never upcast): NDJSON lines ' +
      '`{position, id, type, streamName, streamRevision, data, metadata, recordedAt}` (the fields the log’s Merkle leaves hash, with the position) ' +
      'or CSV for spreadsheets. Resume after the last line with `after=<its position>`. `X-Flagline-Position` names the head the export covers, ' +
      '`X-Flagline-Export-After` where it starts. A line with `redacted` left out fields the caller may not see.',
  })
  @ApiProduces(CONTENT_TYPES.ndjson, CONTENT_TYPES.csv)
  @ApiQuery({ name: 'format', required: false, schema: { type: 'string', enum: ['ndjson', 'csv'], default: 'ndjson' } })
  @ApiQuery({ name: 'after', required: false, schema: { type: 'integer', minimum: 0 }, description: 'Events strictly after this log position' })
  @ApiQuery({ name: 'from', required: false, schema: { type: 'string', format: 'date-time' }, description: 'Recorded at or after' })
  @ApiQuery({ name: 'to', required: false, schema: { type: 'string', format: 'date-time' }, description: 'Recorded at or before' })
  @ApiQuery({ name: 'types', required: false, schema: { type: 'string' }, description: `Event types, separated by commas (${EVENT_TYPES.length} types)` })
  @ApiQuery({
    name: 'entity',
    required: false,
    schema: { type: 'string' },
    description: `\`<kind>:<id>\`, kind one of ${EXPORT_ENTITY_KINDS.join(', ')} (environment:<id or client key>, identity:<environment>:<identifier>): the events its history lists`,
  })
  @ApiQuery({ name: 'actor', required: false, schema: { type: 'string', minLength: 1, maxLength: 200 }, description: 'The actor id of the events' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1 } })
  @ApiQuery({
    name: 'replayable',
    required: false,
    schema: { type: 'string', enum: ['true', 'false'] },
    description: 'With entity=project:<id>: also its organisation’s stream, the user streams and (for the administrator) the id sequence, so that the export replays into an empty instance',
  })
  @ApiResponse({
    status: 200,
    description: `The events, streamed (CSV columns: ${CSV_COLUMNS.join(', ')})`,
    content: {
      [CONTENT_TYPES.ndjson.split(';')[0] as string]: { schema: EXPORTED_EVENT_SCHEMA },
      [CONTENT_TYPES.csv.split(';')[0] as string]: { schema: { type: 'string', description: 'RFC 4180 CSV with a header row' } },
    },
    headers: {
      [EXPORT_HEAD_HEADER]: { description: 'The log position the export covers up to', schema: { type: 'integer' } },
      [EXPORT_AFTER_HEADER]: { description: 'The position it starts after', schema: { type: 'integer' } },
    },
  })
  async export(@Caller() caller: RequestContext, @Query(ExportQueryPipe) request: ExportRequest, @Res() response: Response): Promise<void> {
    // Everything that can be refused is checked here, before the first byte goes out.
    const plan = await this.app.exports.plan(caller, request.query);
    response.status(200);
    response.setHeader('Content-Type', CONTENT_TYPES[request.format]);
    response.setHeader('Cache-Control', 'no-store');
    response.setHeader(EXPORT_HEAD_HEADER, String(plan.head));
    response.setHeader(EXPORT_AFTER_HEADER, String(plan.after));
    if (request.format === 'csv') response.setHeader('Content-Disposition', 'attachment; filename="events.csv"');
    response.flushHeaders();
    let closed = false;
    response.once('close', () => (closed = true));
    let batch: ExportedEvent[] = [];
    let first = true;
    const flush = async (): Promise<void> => {
      const text = formatBatch(request.format, batch, first);
      first = false;
      batch = [];
      if (text.length > 0 && !response.write(text)) await drained(response);
    };
    try {
      for await (const event of plan.events()) {
        if (closed) return;
        batch.push(event);
        if (batch.length >= WRITE_EVENTS) await flush();
      }
      if (batch.length > 0 || first) await flush();
      response.end();
    } catch (error) {
      // The status is sent: the only way to say the export is incomplete is to cut it short.
      this.logger.error(`export failed after the head ${plan.head}: ${error instanceof Error ? error.message : String(error)}`);
      response.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
