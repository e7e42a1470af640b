import type { AdminApplication } from '@flagline/admin-application';
import { parseAsOf } from '@flagline/admin-projections';
import { applyDecorators, Inject, Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiOperation, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { DiffView } from '../dto/diff.dto';
import type { Response } from 'express';
import { tap, type Observable } from 'rxjs';
import { ADMIN_APPLICATION } from './admin-api.tokens';
import type { AuthenticatedRequest } from './request-context';

/** The response header naming the log position a read of state reflects. */
export const POSITION_HEADER = 'X-Flagline-Position';

const READS_AS_OF = Symbol('readsAsOf');

/**
 * On a GET of state: it accepts `?asOf=<ISO-8601 time | log position>` and answers what the same
 * read answered then, and every answer (as of a point or now) carries `X-Flagline-Position`.
 */
export const ReadsAsOf = (): MethodDecorator =>
  applyDecorators(
    SetMetadata(READS_AS_OF, true),
    ApiQuery({
      name: 'asOf',
      required: false,
      schema: { type: 'string', example: '2026-12-06T02:00:00Z' },
      description:
        'Answer as of this point of the log: a log position (positive integer) or an ISO-8601 time with a zone (the last position recorded at or before it). ' +
        `The answer's position is in the ${POSITION_HEADER} header. A position past the head, a time in the future or before the first event is a 400.`,
    }),
  );

/**
 * Resolves `asOf` on the routes marked `ReadsAsOf` before they run (a 400 naming `asOf` when it
 * is malformed or names no point of the log), hands the position to the route's `Caller`, and
 * sets `X-Flagline-Position` on the answer: the resolved point, or the catalog's position for a
 * read of now.
 */
@Injectable()
export class AsOfInterceptor implements NestInterceptor {
  constructor(
    @Inject(ADMIN_APPLICATION) private readonly app: AdminApplication,
    private readonly reflector: Reflector,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http' || !this.reflector.get<boolean | undefined>(READS_AS_OF, context.getHandler())) return next.handle();
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const text = request.query['asOf'];
    let position = this.app.context.catalog.position;
    if (typeof text === 'string') {
      position = (await this.app.context.history.resolve(parseAsOf(text))).position;
      request.asOf = position;
    }
    const response = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(tap(() => response.setHeader(POSITION_HEADER, String(position))));
  }
}

const POINT = 'a log position (positive integer) or an ISO-8601 time with a zone';

/** A diff route: `from` (default: the first event) and `to` (default: the head of the log), `from` not after `to`, answering a `DiffView`. */
export const Diffs = (what: string): MethodDecorator =>
  applyDecorators(
    ApiOperation({ summary: `The structured changes to ${what} between two points of the log, each with the events behind it` }),
    ApiQuery({ name: 'from', required: false, schema: { type: 'string' }, description: `The earlier point: ${POINT}; before the first event of the log (position 0, every event in the range) when absent` }),
    ApiQuery({ name: 'to', required: false, schema: { type: 'string' }, description: `The later point: ${POINT}; the head of the log when absent` }),
    ApiResponse({ status: 200, description: 'The changes, field by field', type: DiffView }),
  );
