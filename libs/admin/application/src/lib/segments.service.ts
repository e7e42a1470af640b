import { NotFoundError, parseSegmentRules, projectDecider, ValidationError, type Project, type SegmentRuleInput } from '@flagline/admin-domain';
import { eventOf, type AdminContext, type RequestContext } from './admin-context';
import { Lookup } from './lookup';
import type { ProjectsService } from './projects.service';
import { segmentView, type SegmentView, type Versioned } from './views';

export interface SegmentInput {
  readonly name: string;
  readonly description?: string;
  readonly rules: readonly SegmentRuleInput[];
}

/** Validates a rule tree per operator; every problem is reported at once, by its field path. */
function rulesOf(input: readonly SegmentRuleInput[]) {
  const { rules, errors } = parseSegmentRules(input);
  if (errors.length > 0) throw new ValidationError('SEGMENT.INVALID_RULES', errors);
  return rules;
}

export class SegmentsService {
  private readonly lookup: Lookup;

  constructor(
    private readonly context: AdminContext,
    private readonly projects: ProjectsService,
  ) {
    this.lookup = new Lookup(context.catalog, context.history);
  }

  private view(project: Project, segmentId: number): Versioned<SegmentView> {
    const segment = project.segments.get(segmentId);
    if (!segment) throw new NotFoundError('SEGMENT.NOT_FOUND', `Segment ${segmentId} not found in this project`);
    return { view: segmentView(project, segment), revision: segment.revision };
  }

  async list(request: RequestContext, projectId: number): Promise<SegmentView[]> {
    const project = await this.lookup.readProject(request, projectId, 'member', 'read segments');
    return [...project.segments.values()].map((segment) => segmentView(project, segment));
  }

  async get(request: RequestContext, projectId: number, segmentId: number): Promise<Versioned<SegmentView>> {
    return this.view(await this.lookup.readProject(request, projectId, 'member', 'read segments'), segmentId);
  }

  async create(request: RequestContext, projectId: number, input: SegmentInput): Promise<Versioned<SegmentView>> {
    const rules = rulesOf(input.rules);
    const project = this.lookup.project(request.principal, projectId, 'member', 'create segments');
    const result = await this.projects.run(
      request,
      project,
      this.context.withNewIds(
        projectDecider,
        () => 1,
        (_state, ids) => {
          return { type: 'CreateSegment', segmentId: ids[0] as number, name: input.name, description: input.description ?? '', rules, now: this.context.now() };
        },
      ),
    );
    return this.view(result.state, eventOf(result.events, 'SegmentCreated').data.segmentId);
  }

  async change(request: RequestContext, projectId: number, segmentId: number, input: Partial<SegmentInput>, expectedRevision?: number): Promise<Versioned<SegmentView>> {
    const rules = input.rules !== undefined ? rulesOf(input.rules) : undefined;
    const project = this.lookup.project(request.principal, projectId, 'member', 'change segments');
    const result = await this.projects.run(request, project, {
      type: 'ChangeSegment',
      segmentId,
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(rules !== undefined ? { rules } : {}),
      ...(expectedRevision !== undefined ? { expectedRevision } : {}),
    });
    return this.view(result.state, segmentId);
  }

  async delete(request: RequestContext, projectId: number, segmentId: number, expectedRevision?: number): Promise<void> {
    const project = this.lookup.project(request.principal, projectId, 'member', 'delete segments');
    await this.projects.run(request, project, { type: 'DeleteSegment', segmentId, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });
  }
}
