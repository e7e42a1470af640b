import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const ADMIN_API_PREFIX = 'admin/v1';

/** Serves the admin API's OpenAPI document at `/openapi.json` and a browsable page at `/docs`. */
export function setupOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Flagline admin API')
    .setDescription(
      'Organisations, projects, environments, features, segments, overrides and identities. Every change is an event; ' +
        'reads return an ETag with the entity revision and writes accept If-Match. Authenticate with `Authorization: Api-Key <key>`.',
    )
    .setVersion('1')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'Authorization', description: 'Api-Key <key>' }, 'api-key')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', useGlobalPrefix: false });
}
