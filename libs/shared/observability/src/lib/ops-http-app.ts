import { Controller, Get, HttpException, Inject, Module, Res, type DynamicModule, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Response } from 'express';
import type { ServiceMetrics } from './metrics';

/** What a service reports about itself; `ready: false` makes `/health/ready` answer 503. */
export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'starting';
  readonly ready: boolean;
  readonly [detail: string]: unknown;
}

export interface OpsEndpoints {
  readonly health: () => HealthReport;
  readonly metrics: ServiceMetrics;
}

const OPS = Symbol('OpsEndpoints');

@Controller()
class OpsController {
  constructor(@Inject(OPS) private readonly ops: OpsEndpoints) {}

  @Get('health')
  health(): HealthReport {
    return this.ops.health();
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  ready(): HealthReport {
    const report = this.ops.health();
    if (!report.ready) throw new HttpException(report, 503);
    return report;
  }

  @Get('metrics')
  async metrics(@Res() response: Response): Promise<void> {
    const { contentType, body } = await this.ops.metrics.render();
    response.setHeader('content-type', contentType);
    response.send(body);
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
