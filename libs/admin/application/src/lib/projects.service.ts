import { NotFoundError, toProjectStreamName, type ProjectCommand, type Project } from '@flagline/admin-domain';
import { eventOf, type AdminContext, type RequestContext } from './admin-context';
import { Lookup } from './lookup';
import { requireRole } from './principal';
import { projectView, tagView, type ProjectView, type TagView, type Versioned } from './views';

const organisationNotFound = (): NotFoundError => new NotFoundError('ORGANISATION.NOT_FOUND', 'Organisation not found');

export interface TagInput {
  readonly label: string;
  readonly color?: string;
  readonly description?: string;
}

/** Projects and their tags. */
export class ProjectsService {
  private readonly lookup: Lookup;

  constructor(private readonly context: AdminContext) {
    this.lookup = new Lookup(context.catalog, context.history);
  }

  run(request: RequestContext, project: Pick<Project, 'projectId' | 'organisationId'>, command: ProjectCommand | ((state: Project) => Promise<ProjectCommand>)) {
    return this.context.run(this.context.projects, toProjectStreamName(project.projectId), command, request, {
      organisationId: project.organisationId,
      projectId: project.projectId,
    });
  }

  async create(request: RequestContext, input: { organisationId: number; name: string; hideDisabledFlags?: boolean }): Promise<Versioned<ProjectView>> {
    if (!this.context.catalog.organisation(input.organisationId)) throw organisationNotFound();
    requireRole(this.context.catalog, request.principal, input.organisationId, 'admin', 'create projects', organisationNotFound);
    const [projectId] = await this.context.takeIds(request, 1);
    const id = projectId as number;
    const result = await this.run(request, { projectId: id, organisationId: input.organisationId }, {
      type: 'CreateProject',
      projectId: id,
      organisationId: input.organisationId,
      name: input.name,
      hideDisabledFlags: input.hideDisabledFlags ?? false,
      now: this.context.now(),
    });
    return { view: projectView(result.state), revision: result.state.revision };
  }

  /** Projects of one organisation, or of every organisation the caller belongs to. */
  async list(request: RequestContext, organisationId?: number): Promise<ProjectView[]> {
    const { principal } = request;
    const catalog = this.context.catalog;
    const at = this.lookup.at(request);
    const organisations =
      organisationId !== undefined
        ? [organisationId]
        : principal.kind === 'organisation-key'
          ? [principal.organisationId]
          : catalog.organisationsOf(principal.userId).map(({ organisation }) => organisation.organisationId);
    const lists = await Promise.all(
      organisations.map(async (id) => {
        if (organisationId !== undefined) requireRole(catalog, principal, id, 'member', 'list projects', organisationNotFound);
        return (at ? await at.projectsOf(id) : catalog.projectsOf(id)).map(projectView);
      }),
    );
    return lists.flat();
  }

  async get(request: RequestContext, projectId: number): Promise<Versioned<ProjectView>> {
    const project = await this.lookup.readProject(request, projectId, 'member', 'read this project');
    return { view: projectView(project), revision: project.revision };
  }

  async change(request: RequestContext, projectId: number, input: { name?: string; hideDisabledFlags?: boolean }, expectedRevision?: number): Promise<Versioned<ProjectView>> {
    const project = this.lookup.project(request.principal, projectId, 'admin', 'change projects');
    const result = await this.run(request, project, {
      type: 'ChangeProjectSettings',
      ...input,
      ...(expectedRevision !== undefined ? { expectedRevision } : {}),
    });
    return { view: projectView(result.state), revision: result.state.revision };
  }

  async delete(request: RequestContext, projectId: number, expectedRevision?: number): Promise<void> {
    const project = this.lookup.project(request.principal, projectId, 'admin', 'delete projects');
    await this.run(request, project, { type: 'DeleteProject', ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
  }

  async listTags(request: RequestContext, projectId: number): Promise<TagView[]> {
    const project = await this.lookup.readProject(request, projectId, 'member', 'read tags');
    return [...project.tags.values()].map((tag) => tagView(project, tag));
  }

  async getTag(request: RequestContext, projectId: number, tagId: number): Promise<Versioned<TagView>> {
    const project = await this.lookup.readProject(request, projectId, 'member', 'read tags');
    const tag = project.tags.get(tagId);
    if (!tag) throw new NotFoundError('TAG.NOT_FOUND', `Tag ${tagId} not found in this project`);
    return { view: tagView(project, tag), revision: tag.revision };
  }

  async createTag(request: RequestContext, projectId: number, input: TagInput): Promise<Versioned<TagView>> {
    const project = this.lookup.project(request.principal, projectId, 'member', 'create tags');
    const [tagId] = await this.context.takeIds(request, 1);
    const result = await this.run(request, project, {
      type: 'CreateTag',
      tagId: tagId as number,
      label: input.label,
      color: input.color ?? '#3d4db6',
      description: input.description ?? '',
    });
    const tag = result.state.tags.get(eventOf(result.events, 'TagCreated').data.tagId);
    if (!tag) throw new Error('created tag missing from state');
    return { view: tagView(result.state, tag), revision: tag.revision };
  }

  async changeTag(request: RequestContext, projectId: number, tagId: number, input: Partial<TagInput>, expectedRevision?: number): Promise<Versioned<TagView>> {
    const project = this.lookup.project(request.principal, projectId, 'member', 'change tags');
    await this.run(request, project, { type: 'ChangeTag', tagId, ...input, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
    return this.getTag(request, projectId, tagId);
  }

  async deleteTag(request: RequestContext, projectId: number, tagId: number): Promise<void> {
    const project = this.lookup.project(request.principal, projectId, 'member', 'delete tags');
    await this.run(request, project, { type: 'DeleteTag', tagId });
  }
}
