import type { AdminApplication, RequestContext } from '@flagline/admin-application';
import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { FlagAnalyticsView } from '../dto/views.dto';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { AdminErrors } from '../http/api-responses';
import { ApiKeyGuard } from '../http/api-key.guard';
import { Caller } from '../http/request-context';

@ApiTags('analytics')
@ApiSecurity('api-key')
@AdminErrors()
@ApiParam({ name: 'environment', description: 'Environment id or client-side key' })
@UseGuards(ApiKeyGuard)
@Controller('environments/:environment/analytics')
export class AnalyticsController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Get('flags')
  @ApiOkResponse({ description: 'Counts per feature name', type: FlagAnalyticsView })
  @ApiOperation({ summary: 'Flag evaluation counts reported by SDKs, per day and in total (default: the last 30 days)' })
  @ApiQuery({ name: 'from', required: false, schema: { type: 'string', format: 'date' }, description: 'YYYY-MM-DD' })
  @ApiQuery({ name: 'to', required: false, schema: { type: 'string', format: 'date' }, description: 'YYYY-MM-DD' })
  flags(@Caller() caller: RequestContext, @Param('environment') environment: string, @Query('from') from?: string, @Query('to') to?: string) {
    return this.app.analytics.read(caller, environment, { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }, new Date().toISOString().slice(0, 10));
  }
}
