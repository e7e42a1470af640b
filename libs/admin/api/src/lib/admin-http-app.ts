import type { AdminApplication } from '@flagline/admin-application';
import { Controller, Get, Module, RequestMethod, type DynamicModule, type INestApplication, type LoggerService, type LogLevel, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { ApiExcludeController } from '@nestjs/swagger';
import express from 'express';
import { jsonDepthExceeds, jsonHasLoneSurrogate, MAX_JSON_DEPTH } from '@flagline/http-edge';
import { auditPage } from '@flagline/admin-web';
import { AdminApiModule } from './admin-api.module';
import { declaredCharset, JsonTooDeepError, LONE_SURROGATE_MESSAGE, RequestValidationError, UnsupportedCharsetError } from './http/api-error';
import { InternalApiModule } from './internal-api.module';
import { createValidationPipe } from './http/validation.pipe';
import { floatJsonResponses, keepRawJsonBody, traitBodiesKeepFloats } from './http/float-json.middleware';
import { ADMIN_API_PREFIX, setupOpenApi } from './openapi';

export type HealthReport = () => Record<string, unknown>;

function healthController(report: HealthReport): Type<unknown> {
  @ApiExcludeController()
  @Controller()
  class HealthController {
    @Get('health')
    health() {
      return { status: 'ok', ...report() };
    }
  }
  return HealthController;
}

@Module({})
class AdminHttpModule {
  static register(application: AdminApplication, health: HealthReport, internalToken?: string): DynamicModule {
    return {
      module: AdminHttpModule,
      imports: [AdminApiModule.register(application), ...(internalToken ? [InternalApiModule.register(application, internalToken)] : [])],
      controllers: [healthController(health)],
    };
  }
}

export interface AdminHttpAppOptions {
  readonly health: HealthReport;
  readonly logLevels?: LogLevel[];
  /** Largest accepted request body. */
  readonly bodyLimit?: string;
  /** Enables the service-to-service API (`/internal/v1`) for evaluation services, with this bearer token. */
  readonly internalToken?: string;
  /** Where NestJS logs go (default: its console logger at the given levels). */
  readonly logger?: LoggerService;
  /** Mounts Express middleware ahead of the API's routes (a service's operations routes and request metrics). */
  readonly beforeRoutes?: (server: express.Express) => void;
}

/**
 * The admin API as a NestJS application (Express), initialised but not listening: the caller
 * mounts its request handler, alone or behind the evaluation fast path.
 */
export async function createAdminHttpApp(application: AdminApplication, options: AdminHttpAppOptions): Promise<INestApplication> {
  const server = express();
  server.disable('x-powered-by');
  // The auditor page's static files (public; the data it shows comes from the admin API with a key).
  const audit = auditPage();
  server.use((request, response, next) => {
    if (!audit(request, response)) next();
  });
  options.beforeRoutes?.(server);
  const app = await NestFactory.create(AdminHttpModule.register(application, options.health, options.internalToken), new ExpressAdapter(server), {
    logger: options.logger ?? options.logLevels ?? ['error', 'warn'],
    bodyParser: false,
  });
  app.use(
    express.json({
      limit: options.bodyLimit ?? '1mb',
      type: ['application/json', 'application/*+json'],
      // Depth is checked on the raw bytes, before parsing: validation walks bodies recursively.
      verify: (request, response, raw) => {
        const charset = declaredCharset(request.headers['content-type']);
        if (charset !== undefined && charset !== 'utf-8') throw new UnsupportedCharsetError(charset);
        if (jsonDepthExceeds(raw, MAX_JSON_DEPTH)) throw new JsonTooDeepError(MAX_JSON_DEPTH);
        if (jsonHasLoneSurrogate(raw)) throw new RequestValidationError([{ field: 'body', message: LONE_SURROGATE_MESSAGE }]);
        keepRawJsonBody(request, response, raw);
      },
    }),
  );
  app.use(traitBodiesKeepFloats, floatJsonResponses);
  app.setGlobalPrefix(ADMIN_API_PREFIX, { exclude: ['health', 'metrics', { path: 'internal/v1/identities', method: RequestMethod.POST }] });
  app.useGlobalPipes(createValidationPipe());
  setupOpenApi(app);
  await app.init();
  return app;
}
