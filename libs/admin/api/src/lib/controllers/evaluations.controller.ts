import type { AdminApplication, RequestContext } from '@flagline/admin-application';
import { Body, Controller, HttpCode, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiExtension, ApiOperation, ApiParam, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ExplainEvaluationDto, ExplainedEvaluationView } from '../dto/evaluations.dto';
import { AdminErrors, ApiErrors } from '../http/api-responses';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { ApiKeyGuard } from '../http/api-key.guard';
import { Caller } from '../http/request-context';

/** The response header naming the log position an answer reflects. */
const POSITION_HEADER = 'X-Flagline-Position';

@ApiTags('evaluation')
@ApiSecurity('api-key')
@AdminErrors()
@ApiParam({ name: 'environment', description: 'Environment id or client-side key' })
@UseGuards(ApiKeyGuard)
@Controller('environments/:environment/evaluate')
export class EvaluationsController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Post()
  @HttpCode(200)
  @ApiErrors(413)
  // A POST only because its question has a body: it writes nothing, so it never meets a clash (409).
  @ApiExtension('x-flagline-read-only', true)
  @ApiOperation({
    summary: 'Explained evaluation, now or then',
    description:
      'What the SDK API answers (or answered, with `asOf`) for an identity or the environment, flag by flag, and why: the identity override, ' +
      'each segment overriding the feature with every rule and condition (the context value read, true or false), the override that won on priority, ' +
      'and the hash percentage and bucket of splits and multivariate flags. Evaluated by the serving code itself; nothing is stored.',
  })
  @ApiResponse({
    status: 200,
    description: 'Each flag explained',
    type: ExplainedEvaluationView,
    headers: { [POSITION_HEADER]: { description: 'The log position evaluated at', schema: { type: 'string' } } },
  })
  async explain(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Body() body: ExplainEvaluationDto,
    @Res({ passthrough: true }) response: Response,
  ) {
    const explained = await this.app.evaluations.explain(caller, environment, {
      ...(body.identifier !== undefined ? { identifier: body.identifier } : {}),
      ...(body.traits !== undefined ? { traits: body.traits } : {}),
      ...(body.features !== undefined ? { features: body.features } : {}),
      ...(body.asOf !== undefined ? { asOf: body.asOf } : {}),
    });
    response.setHeader(POSITION_HEADER, String(explained.position));
    return explained;
  }
}
