import type { AdminApplication } from '@flagline/admin-application';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { AnalyticsController } from './controllers/analytics.controller';
import { EnvironmentsController, ProjectEnvironmentsController } from './controllers/environments.controller';
import { EvaluationsController } from './controllers/evaluations.controller';
import { EventsController } from './controllers/events.controller';
import { TransparencyController } from './controllers/transparency.controller';
import { FeaturesController } from './controllers/features.controller';
import { IdentitiesController } from './controllers/identities.controller';
import { InvitationsController } from './controllers/invitations.controller';
import { OrganisationsController } from './controllers/organisations.controller';
import { ProjectsController } from './controllers/projects.controller';
import { SegmentsController } from './controllers/segments.controller';
import { UsersController } from './controllers/users.controller';
import { ADMIN_APPLICATION } from './http/admin-api.tokens';
import { ApiKeyGuard } from './http/api-key.guard';
import { AsOfInterceptor } from './http/as-of';
import { HttpErrorFilter } from './http/http-error.filter';
import { ParameterCheckInterceptor } from './http/parameter-check.interceptor';
import { VersionedInterceptor } from './http/versioned.interceptor';

/** The admin REST API over an `AdminApplication`; mount it under the admin prefix. */
@Module({})
export class AdminApiModule {
  static register(application: AdminApplication): DynamicModule {
    return {
      module: AdminApiModule,
      controllers: [
        UsersController,
        OrganisationsController,
        InvitationsController,
        ProjectsController,
        FeaturesController,
        SegmentsController,
        ProjectEnvironmentsController,
        EnvironmentsController,
        IdentitiesController,
        EvaluationsController,
        AnalyticsController,
        EventsController,
        TransparencyController,
      ],
      providers: [
        { provide: ADMIN_APPLICATION, useValue: application },
        ApiKeyGuard,
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: VersionedInterceptor },
        { provide: APP_INTERCEPTOR, useClass: ParameterCheckInterceptor },
        { provide: APP_INTERCEPTOR, useClass: AsOfInterceptor },
      ],
    };
  }
}
