import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiHeader, ApiQuery, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { BY_ID, type PageQueryPipe } from '../controllers/page.query';
import { ApiErrorView } from '../dto/views.dto';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad request: every bad field or parameter is named in `errors`',
  401: 'No API key, or an unknown one',
  403: 'The key’s role does not allow this',
  404: 'Unknown resource (or one of another organisation)',
  409: 'A clash with the current state, like a name in use, or a broken invariant',
  412: 'The entity changed since the revision named in If-Match',
  413: 'The request body is too large',
  415: 'The body is not JSON in a charset this API reads (UTF-8)',
};

/** Error answers of an operation, each with the shared error shape. */
export const ApiErrors = (...statuses: number[]): MethodDecorator & ClassDecorator =>
  applyDecorators(...statuses.map((status) => ApiResponse({ status, description: ERROR_DESCRIPTIONS[status] ?? 'Error', type: ApiErrorView })));

/** On an admin controller: what every operation behind the API key guard may answer. */
export const AdminErrors = (): ClassDecorator => ApiErrors(400, 401, 403, 404);

const ETAG = { ETag: { description: 'The entity revision, for If-Match', schema: { type: 'string' } } };

const IF_MATCH = ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'An ETag returned by this API, like "12": the write is refused (412) if the entity changed since',
  schema: { type: 'string', pattern: '^\\s*(\\*|(W/)?"?[0-9]{1,15}"?)\\s*$' },
});

export interface WriteOptions {
  /** The route honours If-Match (and may answer 412). */
  readonly ifMatch?: boolean;
}

/** A read of one entity: 200 with its view and ETag. */
export const Reads = (type: Type<unknown>): MethodDecorator => ApiResponse({ status: 200, description: 'The entity', type, headers: ETAG });

/** A collection: one page of `{results, next}`, in a stable order, with `?after=` and `?pageSize=` as `page` reads them. */
export const Lists = (type: Type<unknown>, page: PageQueryPipe = BY_ID): MethodDecorator =>
  applyDecorators(
    ApiExtraModels(type),
    ApiQuery({ name: 'after', required: false, schema: page.cursorSchema, description: 'The `next` of the previous page' }),
    ApiQuery({ name: 'pageSize', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }),
    ApiResponse({
      status: 200,
      description: 'One page',
      schema: {
        type: 'object',
        required: ['results', 'next'],
        properties: {
          results: { type: 'array', items: { $ref: getSchemaPath(type) } },
          next: { type: 'string', nullable: true, description: 'Cursor of the next page (`?after=`), or null on the last page' },
        },
      },
    }),
  );

/** A write that creates: 201 with the new entity. */
export const Creates = (type: Type<unknown>): MethodDecorator =>
  applyDecorators(ApiResponse({ status: 201, description: 'Created', type, headers: ETAG }), ApiErrors(409, 413, 415));

/** A write that changes: 200 with the entity as it is now (an array for `isArray`). */
export const Changes = (type: Type<unknown>, options: WriteOptions & { isArray?: boolean } = {}): MethodDecorator =>
  applyDecorators(
    ApiResponse({ status: 200, description: 'The entity after the change', type, ...(options.isArray ? { isArray: true } : { headers: ETAG }) }),
    ApiErrors(409, 413, 415, ...(options.ifMatch ? [412] : [])),
    ...(options.ifMatch ? [IF_MATCH] : []),
  );

/** A write that removes: 204. */
export const Deletes = (options: WriteOptions = {}): MethodDecorator =>
  applyDecorators(ApiResponse({ status: 204, description: 'Removed' }), ApiErrors(409, ...(options.ifMatch ? [412] : [])), ...(options.ifMatch ? [IF_MATCH] : []));
