import { Injectable, type ArgumentMetadata, type CallHandler, type ExecutionContext, type NestInterceptor, type PipeTransform } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { RequestValidationError, type FieldErrorBody } from './api-error';

/**
 * A pipe that checks a path or query parameter (or the whole query) without dependencies.
 * Throws `RequestValidationError` naming the bad fields.
 */
export abstract class ParameterPipe<T = unknown> implements PipeTransform<unknown, T> {
  abstract transform(value: unknown, metadata: ArgumentMetadata): T;
}

interface RouteArgument {
  readonly index: number;
  readonly data?: string;
  readonly pipes?: readonly unknown[];
}

function parameterPipe(pipe: unknown): ParameterPipe | null {
  if (pipe instanceof ParameterPipe) return pipe;
  if (typeof pipe === 'function' && pipe.prototype instanceof ParameterPipe) return new (pipe as new () => ParameterPipe)();
  return null;
}

/**
 * Runs the parameter pipes of every path and query parameter of the route before any of them
 * runs for real, so one 400 names every bad parameter (Nest stops at the first failing pipe).
 */
@Injectable()
export class ParameterCheckInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const declared = Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), context.getHandler().name) as Record<string, RouteArgument> | undefined;
    const request = context.switchToHttp().getRequest<Request>();
    const errors: FieldErrorBody[] = [];
    const argumentsInOrder = Object.entries(declared ?? {}).sort(([, a], [, b]) => a.index - b.index);
    for (const [key, argument] of argumentsInOrder) {
      const type = key.split(':')[0];
      const isParam = type === String(RouteParamtypes.PARAM);
      if (!isParam && type !== String(RouteParamtypes.QUERY)) continue;
      const source: Record<string, unknown> = isParam ? request.params : request.query;
      const value = argument.data === undefined ? source : source[argument.data];
      for (const pipe of (argument.pipes ?? []).map(parameterPipe)) {
        if (!pipe) continue;
        try {
          pipe.transform(value, { type: isParam ? 'param' : 'query', ...(argument.data !== undefined ? { data: argument.data } : {}) });
        } catch (error) {
          if (!(error instanceof RequestValidationError)) throw error;
          errors.push(...error.errors);
          break;
        }
      }
    }
    if (errors.length > 0) throw new RequestValidationError(errors);
    return next.handle();
  }
}
