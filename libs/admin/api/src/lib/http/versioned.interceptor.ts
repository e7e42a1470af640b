import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { map, type Observable } from 'rxjs';

function isVersioned(value: unknown): value is { view: unknown; revision: number } {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.keys(value).length === 2 &&
    'view' in value &&
    'revision' in value &&
    typeof (value as { revision: unknown }).revision === 'number'
  );
}

/** Turns a `{view, revision}` result into the view with `ETag: "<revision>"`. */
@Injectable()
export class VersionedInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((result: unknown) => {
        if (!isVersioned(result)) return result;
        context.switchToHttp().getResponse<Response>().setHeader('ETag', `"${result.revision}"`);
        return result.view;
      }),
    );
  }
}
