import type { AdminApplication, PageRequest, RequestContext } from '@flagline/admin-application';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { CreateIdentityDto, IdentityOverrideDto, TraitsDto } from '../dto/environments.dto';
import { AuditEntryView, IdentityView } from '../dto/views.dto';
import { AdminErrors, ApiErrors, Changes, Creates, Deletes, Lists, Reads } from '../http/api-responses';
import { RequestValidationError } from '../http/api-error';
import { ADMIN_APPLICATION } from '../http/admin-api.tokens';
import { ApiKeyGuard } from '../http/api-key.guard';
import { ReadsAsOf } from '../http/as-of';
import { IdPipe } from '../http/id.pipe';
import { Caller, IfMatch } from '../http/request-context';
import { HistoryQueryPipe, type HistoryOptions } from './history.query';
import { PageQueryPipe } from './page.query';

const BY_IDENTIFIER = new PageQueryPipe(['string']);

function withoutNulls(traits: TraitsDto['traits'], field: string) {
  const nulls = Object.entries(traits).filter(([, value]) => value === null);
  if (nulls.length > 0) throw new RequestValidationError(nulls.map(([key]) => ({ field: `${field}.${key}`, message: 'must not be null when replacing all traits' })));
  return traits as Record<string, string | number | boolean>;
}

@ApiTags('identities')
@ApiSecurity('api-key')
@AdminErrors()
@ApiParam({ name: 'environment', description: 'Environment id or client-side key' })
@UseGuards(ApiKeyGuard)
@Controller('environments/:environment/identities')
export class IdentitiesController {
  constructor(@Inject(ADMIN_APPLICATION) private readonly app: AdminApplication) {}

  @Get()
  @ReadsAsOf()
  @Lists(IdentityView, BY_IDENTIFIER)
  @ApiQuery({ name: 'search', required: false, type: String, description: 'Keeps identifiers that contain it (case-insensitive)' })
  @ApiOperation({ summary: 'Identities of the environment, in identifier order' })
  list(@Caller() caller: RequestContext, @Param('environment') environment: string, @Query(BY_IDENTIFIER) page: PageRequest, @Query('search') search?: unknown) {
    return this.app.identities.list(caller, environment, { ...page, ...(typeof search === 'string' ? { search } : {}) });
  }

  @Post()
  @Creates(IdentityView)
  create(@Caller() caller: RequestContext, @Param('environment') environment: string, @Body() body: CreateIdentityDto) {
    return this.app.identities.create(caller, environment, body);
  }

  @Get(':identifier')
  @ReadsAsOf()
  @Reads(IdentityView)
  get(@Caller() caller: RequestContext, @Param('environment') environment: string, @Param('identifier') identifier: string) {
    return this.app.identities.get(caller, environment, identifier);
  }

  @Delete(':identifier')
  @HttpCode(204)
  @Deletes({ ifMatch: true })
  async delete(@Caller() caller: RequestContext, @Param('environment') environment: string, @Param('identifier') identifier: string, @IfMatch() revision?: number) {
    await this.app.identities.delete(caller, environment, identifier, revision);
  }

  @Post(':identifier/erase')
  @HttpCode(204)
  @ApiResponse({ status: 204, description: 'Erased: the identity is gone from every read, its earlier events read as erased' })
  @ApiErrors(409)
  @ApiOperation({
    summary: 'Erase the identity’s personal data (GDPR; organisation admins only)',
    description:
      'Records IdentityErased in the identity’s stream, drops the identity from the catalog and the evaluation read models, then destroys the key that sealed its identifier and traits in the log: its events (stored bytes and proofs unchanged) read with `erased: true` in place of them from then on. A deleted identity can be erased too; an identify of the same identifier afterwards makes a new identity. Repeating the request finishes an erasure a crash interrupted.',
  })
  async erase(@Caller() caller: RequestContext, @Param('environment') environment: string, @Param('identifier') identifier: string) {
    await this.app.identities.erase(caller, environment, identifier);
  }

  @Patch(':identifier/traits')
  @Changes(IdentityView, { ifMatch: true })
  @ApiOperation({ summary: 'Set traits; a null value removes a trait' })
  updateTraits(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Param('identifier') identifier: string,
    @Body() body: TraitsDto,
    @IfMatch() revision?: number,
  ) {
    return this.app.identities.updateTraits(caller, environment, identifier, body.traits, revision);
  }

  @Put(':identifier/traits')
  @Changes(IdentityView, { ifMatch: true })
  @ApiOperation({ summary: 'Replace all traits' })
  replaceTraits(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Param('identifier') identifier: string,
    @Body() body: TraitsDto,
    @IfMatch() revision?: number,
  ) {
    return this.app.identities.replaceTraits(caller, environment, identifier, withoutNulls(body.traits, 'traits'), revision);
  }

  @Put(':identifier/overrides/:featureId')
  @Changes(IdentityView)
  @ApiOperation({ summary: 'Set the identity’s own state of a feature (it wins over segments and defaults)' })
  setOverride(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Param('identifier') identifier: string,
    @Param('featureId', IdPipe) featureId: number,
    @Body() body: IdentityOverrideDto,
  ) {
    return this.app.identities.setOverride(caller, environment, identifier, featureId, body);
  }

  @Delete(':identifier/overrides/:featureId')
  @HttpCode(204)
  @Deletes()
  async removeOverride(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Param('identifier') identifier: string,
    @Param('featureId', IdPipe) featureId: number,
  ) {
    await this.app.identities.removeOverride(caller, environment, identifier, featureId);
  }

  @Get(':identifier/history')
  @Lists(AuditEntryView)
  history(
    @Caller() caller: RequestContext,
    @Param('environment') environment: string,
    @Param('identifier') identifier: string,
    @Query(HistoryQueryPipe) history: HistoryOptions,
  ) {
    return this.app.audit.history(caller, { kind: 'identity', environment, identifier }, history);
  }
}
