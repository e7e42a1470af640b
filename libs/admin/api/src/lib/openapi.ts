import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { SDK_PATHS, SDK_SCHEMAS, SDK_SECURITY_SCHEMES } from './sdk-openapi';

export const ADMIN_API_PREFIX = 'admin/v1';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;

/**
 * Numeric path and query parameters of the admin API are all ids, read by `IdPipe`: positive
 * integers. The generator only sees TypeScript's `number` and would let `1.5` or `-3` pass.
 */
function withIntegerIds(paths: OpenAPIObject['paths']): OpenAPIObject['paths'] {
  const fix = (operation: Operation | undefined): void => {
    for (const parameter of operation?.parameters ?? []) {
      if ('schema' in parameter && parameter.schema && 'type' in parameter.schema && parameter.schema.type === 'number') parameter.schema = { type: 'integer', minimum: 1 };
    }
  };
  for (const item of Object.values(paths)) for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) fix(item[method]);
  return paths;
}

/**
 * Bodies that must carry at least one of several optional fields (their DTOs say so with
 * `ValidateIf`, which the generator cannot read): adding a member names the user by id or email.
 */
const ONE_OF_FIELDS: Readonly<Record<string, readonly string[]>> = { AddMemberDto: ['userId', 'email'] };

/**
 * Request bodies as the validation pipe reads them: a field no DTO declares is a 400
 * (`forbidNonWhitelisted`), and a PATCH must name at least one field (`emptyPatchBody`).
 */
function withStrictBodies(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  for (const [name, schema] of Object.entries(schemas)) if (name.endsWith('Dto') && !('$ref' in schema)) schema.additionalProperties = false;
  for (const [name, fields] of Object.entries(ONE_OF_FIELDS)) {
    const schema = schemas[name];
    if (schema && !('$ref' in schema)) schema.anyOf = fields.map((field) => ({ required: [field] }));
  }
  for (const item of Object.values(document.paths)) {
    const body = item.patch?.requestBody;
    const schema = body && 'content' in body ? body.content['application/json']?.schema : undefined;
    const target = schema && '$ref' in schema ? schemas[schema.$ref.replace('#/components/schemas/', '')] : undefined;
    if (target && !('$ref' in target)) target.minProperties = 1;
  }
}

/**
 * The whole HTTP contract: the admin API (generated from the controllers and DTOs) and the
 * SDK-facing API and OFREP (served by node:http, described in `sdk-openapi.ts`).
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Flagline admin API')
    .setDescription(
      'Organisations, projects, environments, features, segments, overrides and identities. Every change is an event; ' +
        'reads return an ETag with the entity revision and writes accept If-Match. Authenticate with `Authorization: Api-Key <key>`. ' +
        'Every collection answers one page `{results, next}`: pass `next` back as `?after=` (with `?pageSize=`, 1 to 500, default 50) until it is null. ' +
        'The SDK-facing routes (`/api/v1/…`, Flagsmith’s API) and OpenFeature’s OFREP (`/ofrep/v1/…`) take an environment key instead.',
    )
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'Authorization', description: 'Api-Key <key>' }, 'api-key')
    .addTag('sdk', 'Flagsmith’s SDK API, for Flagsmith’s SDKs')
    .addTag('ofrep', 'OpenFeature Remote Evaluation Protocol')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  withStrictBodies(document);
  const components = document.components ?? {};
  return {
    ...document,
    paths: { ...withIntegerIds(document.paths), ...(SDK_PATHS as OpenAPIObject['paths']) },
    components: {
      ...components,
      schemas: { ...components.schemas, ...(SDK_SCHEMAS as NonNullable<OpenAPIObject['components']>['schemas']) },
      securitySchemes: { ...components.securitySchemes, ...SDK_SECURITY_SCHEMES },
    },
  };
}

/** Serves the OpenAPI document at `/openapi.json` and a browsable page at `/docs`. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, createOpenApiDocument(app), { jsonDocumentUrl: 'openapi.json', useGlobalPrefix: false });
}
