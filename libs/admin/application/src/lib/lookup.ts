import { NotFoundError, type Environment, type Organisation, type Project, type Role } from '@flagline/admin-domain';
import type { AdminCatalog } from '@flagline/admin-projections';
import { requireRole, type Principal } from './principal';

export const organisationNotFound = (): NotFoundError => new NotFoundError('ORGANISATION.NOT_FOUND', 'Organisation not found');
const projectNotFound = (): NotFoundError => new NotFoundError('PROJECT.NOT_FOUND', 'Project not found');
const environmentNotFound = (): NotFoundError => new NotFoundError('ENVIRONMENT.NOT_FOUND', 'Environment not found');

/** Finds entities the caller may see, with the role the operation needs; anything else is not found. */
export class Lookup {
  constructor(private readonly catalog: AdminCatalog) {}

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
    const byId = /^\d+$/.test(reference);
    const project = byId ? this.catalog.projectHolding('environmentId', Number(reference)) : this.catalog.projectByEnvironmentKey(reference);
    const environment = project
      ? byId
        ? project.environments.get(Number(reference))
        : [...project.environments.values()].find((candidate) => candidate.apiKey === reference)
      : undefined;
    if (!project || !environment) throw environmentNotFound();
    requireRole(this.catalog, principal, project.organisationId, needed, what, environmentNotFound);
    return { project, environment };
  }
}
