import { NotFoundError, type Environment, type Organisation, type Project, type Role } from '@flagline/admin-domain';
import type { AdminCatalog, CatalogAt, CatalogHistory } from '@flagline/admin-projections';
import type { RequestContext } from './admin-context';
import { requireRole, type Principal } from './principal';

export const organisationNotFound = (): NotFoundError => new NotFoundError('ORGANISATION.NOT_FOUND', 'Organisation not found');
export const projectNotFound = (): NotFoundError => new NotFoundError('PROJECT.NOT_FOUND', 'Project not found');
export const environmentNotFound = (): NotFoundError => new NotFoundError('ENVIRONMENT.NOT_FOUND', 'Environment not found');

/** The environment a reference (numeric id or client-side key) names in a project. */
function environmentIn(project: Project | undefined, reference: string): Environment | undefined {
  if (!project) return undefined;
  return /^\d+$/.test(reference) ? project.environments.get(Number(reference)) : [...project.environments.values()].find((candidate) => candidate.apiKey === reference);
}

/**
 * Finds entities the caller may see, with the role the operation needs; anything else is not found.
 *
 * The `read…` methods answer a read as of the request's `asOf` when it has one (the entity as it
 * was then, deleted since or not; not found when it did not exist then), with the caller's rights
 * decided on what they are now: who may read an organisation is today's question.
 */
export class Lookup {
  constructor(
    private readonly catalog: AdminCatalog,
    private readonly history?: CatalogHistory,
  ) {}

  organisation(principal: Principal, organisationId: number, needed: Role, what: string): Organisation {
    const organisation = this.catalog.organisation(organisationId);
    if (!organisation) throw organisationNotFound();
    requireRole(this.catalog, principal, organisationId, needed, what, organisationNotFound);
    return organisation;
  }

  project(principal: Principal, projectId: number, needed: Role, what: string): Project {
    const project = this.catalog.project(projectId);
    if (!project) throw projectNotFound();
    requireRole(this.catalog, principal, project.organisationId, needed, what, projectNotFound);
    return project;
  }

  /** An environment by numeric id or by its client-side key. */
  environment(principal: Principal, reference: string, needed: Role, what: string): { project: Project; environment: Environment } {
    const project = /^\d+$/.test(reference) ? this.catalog.projectHolding('environmentId', Number(reference)) : this.catalog.projectByEnvironmentKey(reference);
    const environment = environmentIn(project, reference);
    if (!project || !environment) throw environmentNotFound();
    requireRole(this.catalog, principal, project.organisationId, needed, what, environmentNotFound);
    return { project, environment };
  }

  /** The catalog as of the request's `asOf`, or undefined for a read of now. */
  at(request: RequestContext): CatalogAt | undefined {
    if (request.asOf === undefined) return undefined;
    if (!this.history) throw new Error('An asOf read needs the catalog history');
    return this.history.at(request.asOf);
  }

  async readOrganisation(request: RequestContext, organisationId: number, needed: Role, what: string): Promise<Organisation> {
    const at = this.at(request);
    if (!at) return this.organisation(request.principal, organisationId, needed, what);
    requireRole(this.catalog, request.principal, organisationId, needed, what, organisationNotFound);
    const organisation = await at.organisation(organisationId);
    if (!organisation) throw organisationNotFound();
    return organisation;
  }

  async readProject(request: RequestContext, projectId: number, needed: Role, what: string): Promise<Project> {
    const at = this.at(request);
    if (!at) return this.project(request.principal, projectId, needed, what);
    const project = await at.project(projectId);
    if (!project) throw projectNotFound();
    requireRole(this.catalog, request.principal, project.organisationId, needed, what, projectNotFound);
    return project;
  }

  async readEnvironment(request: RequestContext, reference: string, needed: Role, what: string): Promise<{ project: Project; environment: Environment }> {
    const at = this.at(request);
    if (!at) return this.environment(request.principal, reference, needed, what);
    const project = await (/^\d+$/.test(reference) ? at.projectHolding('environmentId', Number(reference)) : at.projectByEnvironmentKey(reference));
    const environment = environmentIn(project, reference);
    if (!project || !environment) throw environmentNotFound();
    requireRole(this.catalog, request.principal, project.organisationId, needed, what, environmentNotFound);
    return { project, environment };
  }
}
