import { AdminContext, type AdminDependencies } from './admin-context';
import { FlagAnalyticsService } from './analytics.service';
import { AuditService } from './audit.service';
import { AuthService, type BootstrapOptions } from './auth.service';
import { DiffService } from './diff.service';
import { EnvironmentsService } from './environments.service';
import { EvaluationsService, type EvaluationExplainerPort } from './evaluations.service';
import { ExportService } from './export.service';
import { TransparencyService } from './transparency.service';
import { FeaturesService } from './features.service';
import { IdentitiesService } from './identities.service';
import { InvitationsService } from './invitations.service';
import { OrganisationsService } from './organisations.service';
import { ProjectsService } from './projects.service';
import { SegmentsService } from './segments.service';
import { UsersService } from './users.service';

/** The admin side of the platform: every use case, behind one object the API shell wires in. */
export class AdminApplication {
  readonly context: AdminContext;
  readonly auth: AuthService;
  readonly users: UsersService;
  readonly organisations: OrganisationsService;
  readonly invitations: InvitationsService;
  readonly projects: ProjectsService;
  readonly features: FeaturesService;
  readonly segments: SegmentsService;
  readonly environments: EnvironmentsService;
  readonly identities: IdentitiesService;
  readonly audit: AuditService;
  readonly diff: DiffService;
  readonly exports: ExportService;
  readonly transparency: TransparencyService;
  readonly analytics: FlagAnalyticsService;
  /** Explained evaluation, now or as of a point of the log. */
  readonly evaluations: EvaluationsService;

  /** `explainer`: the evaluation side's explained evaluation, which the apps wire in. */
  constructor(dependencies: AdminDependencies & { readonly explainer?: EvaluationExplainerPort }, bootstrap: BootstrapOptions) {
    this.context = new AdminContext(dependencies);
    this.auth = new AuthService(this.context, bootstrap);
    this.users = new UsersService(this.context);
    this.organisations = new OrganisationsService(this.context);
    this.invitations = new InvitationsService(this.context);
    this.projects = new ProjectsService(this.context);
    this.features = new FeaturesService(this.context, this.projects);
    this.segments = new SegmentsService(this.context, this.projects);
    this.environments = new EnvironmentsService(this.context, this.projects);
    this.identities = new IdentitiesService(this.context);
    this.audit = new AuditService(this.context);
    this.diff = new DiffService(this.context);
    this.exports = new ExportService(this.context, this.audit);
    this.transparency = new TransparencyService(this.context, this.exports);
    this.analytics = new FlagAnalyticsService(this.context, dependencies.analytics);
    this.evaluations = new EvaluationsService(this.context, dependencies.explainer);
  }
}
