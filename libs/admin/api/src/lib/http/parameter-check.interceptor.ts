import { Injectable, type ArgumentMetadata, type CallHandler, type ExecutionContext, type NestInterceptor, type PipeTransform } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { RequestValidationError, type FieldErrorBody } from './api-error';
import { ifMatchRevision, readIfMatch } from './request-context';
import { createValidationPipe } from './validation.pipe';

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
  /** Set for custom parameter decorators. */
  readonly factory?: unknown;
}

/** Collects the field errors a check throws as a `RequestValidationError`; other errors pass. */
function collect(errors: FieldErrorBody[], check: () => unknown): boolean {
  try {
    check();
    return true;
  } catch (error) {
    if (!(error instanceof RequestValidationError)) throw error;
    errors.push(...error.errors);
    return false;
  }
}

/**
 * Every query parameter may be given once: a repeated one (`?search=a&search=b`) is ambiguous and
 * named in a 400. Parameters a route does not declare are ignored, as they always were.
 */
export function repeatedQueryParameters(query: Record<string, unknown>): FieldErrorBody[] {
  return Object.entries(query)
    .filter(([, value]) => typeof value !== 'string')
    .map(([name]) => ({ field: name, message: 'must be given once, as a single value' }));
}

const isEmptyObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;

/**
 * A PATCH changes what its body names: no body, or one whose fields are all absent or empty
 * objects (`{}`, `{"traits": {}}`), would change nothing and is a 400 saying so.
 */
export function emptyPatchBody(body: unknown): FieldErrorBody[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [{ field: 'body', message: 'must be a JSON object (Content-Type: application/json) naming at least one field to change' }];
  const fields = Object.entries(body).filter(([, value]) => value !== undefined);
  if (fields.length === 0) return [{ field: 'body', message: 'must name at least one field to change' }];
  if (fields.every(([, value]) => isEmptyObject(value))) return fields.map(([name]) => ({ field: name, message: 'must name at least one entry to change' }));
  return [];
}

function parameterPipe(pipe: unknown): ParameterPipe | null {
  if (pipe instanceof ParameterPipe) return pipe;
  if (typeof pipe === 'function' && pipe.prototype instanceof ParameterPipe) return new (pipe as new () => ParameterPipe)();
  return null;
}

/**
 * Runs the parameter pipes of every path and query parameter of the route, and the If-Match
 * check, before any of them runs for real, so one 400 names every bad parameter (Nest stops at
 * the first failing pipe), with repeated query parameters and a PATCH that would change nothing.
 * When one is bad, the body is validated here too, so its bad fields are named in the same answer.
 */
@Injectable()
export class ParameterCheckInterceptor implements NestInterceptor {
  private readonly bodyPipe = createValidationPipe();

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const handlerName = context.getHandler().name;
    const declared = Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handlerName) as Record<string, RouteArgument> | undefined;
    const request = context.switchToHttp().getRequest<Request>();
    const errors: FieldErrorBody[] = repeatedQueryParameters(request.query);
    const repeated = new Set(errors.map((error) => error.field));
    const argumentsInOrder = Object.entries(declared ?? {}).sort(([, a], [, b]) => a.index - b.index);
    let body: RouteArgument | undefined;
    for (const [key, argument] of argumentsInOrder) {
      const type = key.split(':')[0];
      if (type === String(RouteParamtypes.BODY)) body = argument;
      if (argument.factory === readIfMatch) collect(errors, () => ifMatchRevision(request));
      const isParam = type === String(RouteParamtypes.PARAM);
      if (!isParam && type !== String(RouteParamtypes.QUERY)) continue;
      const source: Record<string, unknown> = isParam ? request.params : request.query;
      // A repeated query parameter is already named; its pipes would only name it again.
      if (!isParam && argument.data !== undefined && repeated.has(argument.data)) continue;
      const value = argument.data !== undefined ? source[argument.data] : isParam ? source : Object.fromEntries(Object.entries(source).filter(([name]) => !repeated.has(name)));
      const metadata = { type: isParam ? ('param' as const) : ('query' as const), ...(argument.data !== undefined ? { data: argument.data } : {}) };
      for (const pipe of (argument.pipes ?? []).map(parameterPipe)) if (pipe && !collect(errors, () => pipe.transform(value, metadata))) break;
    }
    if (body && request.method === 'PATCH') errors.push(...emptyPatchBody(request.body));
    if (errors.length === 0) return next.handle();
    if (body) {
      const types = Reflect.getMetadata('design:paramtypes', context.getClass().prototype as object, handlerName) as unknown[] | undefined;
      const metatype = types?.[body.index];
      if (typeof metatype === 'function') {
        try {
          await this.bodyPipe.transform(request.body as unknown, { type: 'body', metatype: metatype as new () => unknown });
        } catch (error) {
          if (!(error instanceof RequestValidationError)) throw error;
          errors.push(...error.errors);
        }
      }
    }
    throw new RequestValidationError(errors);
  }
}
