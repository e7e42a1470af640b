import { Controller, Get, Inject, Module, Req, Res, type DynamicModule, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { HealthReport } from './health';
import type { ServiceMetrics } from './metrics';

export interface OpsEndpoints {
  readonly health: () => HealthReport;
  readonly metrics: ServiceMetrics;
}

/** An answer to one of the operations routes. */
export interface OpsAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** The operations routes every service answers, the same way whatever its HTTP stack. */
export const OPS_PATHS: readonly string[] = ['/health', '/health/live', '/health/ready', '/metrics'];

const json = (status: number, body: unknown): OpsAnswer => ({ status, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) });

/**
 * - `/health/live`: 200 while the process runs (a liveness probe restarts it otherwise).
 * - `/health/ready`: 200 only while the service can make progress, else 503; the body names
 *   every check, failing ones with their reason and since when.
 * - `/health`: an alias of live kept for earlier clients (always 200), with the full report.
 * - `/metrics`: the Prometheus text format.
 * Null for any other path (the query string is ignored).
 */
export async function answerOps(url: string, ops: OpsEndpoints): Promise<OpsAnswer | null> {
  const path = url.split('?', 1)[0] ?? url;
  switch (path) {
    case '/health/live':
      return json(200, { status: 'ok' });
    case '/health':
      return json(200, ops.health());
    case '/health/ready': {
      const report = ops.health();
      return json(report.ready ? 200 : 503, report);
    }
    case '/metrics': {
      try {
        const { contentType, body } = await ops.metrics.render();
        return { status: 200, contentType, body };
      } catch (error) {
        return json(500, { detail: `metrics unavailable: ${error instanceof Error ? error.message : String(error)}` });
      }
    }
    default:
      return null;
  }
}

/** Express middleware answering the operations routes (GET and HEAD), passing anything else on. */
export function opsMiddleware(ops: OpsEndpoints): (request: Request, response: Response, next: () => void) => void {
  return (request, response, next) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || !OPS_PATHS.includes(request.path)) return next();
    void answerOps(request.originalUrl, ops).then((answer) => {
      if (answer === null) return next();
      response.status(answer.status).type(answer.contentType).send(answer.body);
    });
  };
}

const OPS = Symbol('OpsEndpoints');

@Controller()
class OpsController {
  constructor(@Inject(OPS) private readonly ops: OpsEndpoints) {}

  @Get(['health', 'health/live', 'health/ready', 'metrics'])
  async answer(@Req() request: Request, @Res() response: Response): Promise<void> {
    const answer = await answerOps(request.path, this.ops);
    if (answer === null) {
      response.status(404).send();
      return;
    }
    response.status(answer.status).type(answer.contentType).send(answer.body);
  }
}

@Module({})
class OpsModule {
  static register(ops: OpsEndpoints): DynamicModule {
    return { module: OpsModule, controllers: [OpsController], providers: [{ provide: OPS, useValue: ops }] };
  }
}

/** A NestJS app with `/health`, `/health/live`, `/health/ready` and `/metrics`, for the workers (relay, projector). */
export async function createOpsHttpApp(ops: OpsEndpoints, logger: LoggerService): Promise<INestApplication> {
  const app = await NestFactory.create(OpsModule.register(ops), { logger });
  app.enableShutdownHooks();
  return app;
}
