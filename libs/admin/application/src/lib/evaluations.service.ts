import { NotFoundError, ValidationError } from '@flagline/admin-domain';
import { EnvironmentHistory, parseAsOf } from '@flagline/admin-projections';
import type { EnvironmentDocument, IdentityDocument } from '@flagline/contracts';
import type { AdminContext, RequestContext } from './admin-context';
import { Lookup } from './lookup';

/** A problem with one request field, as explainers report them. */
export interface ExplainFieldProblem {
  readonly field: string;
  readonly message: string;
}

/** What an explanation answers, as far as the admin side needs to know. */
export interface ExplainedAnswerView {
  readonly identifier: string | null;
  readonly identityStored: boolean;
  readonly traits: readonly object[];
  readonly flags: ReadonlyArray<{ readonly feature: string }>;
}

/**
 * The port to the evaluation side's explained evaluation (wired by the apps: the admin side does
 * not evaluate flags itself). `S` is its reading of who to explain for.
 */
export interface EvaluationExplainerPort<S extends object = object> {
  /** Who to explain for, read with the SDK's identify rules, or the problems of each bad field. */
  subject(body: { readonly identifier?: unknown; readonly traits?: unknown }): S | { readonly errors: readonly ExplainFieldProblem[] };
  /** Names of `names` the environment document has no feature of. */
  unknownFeatures(environment: EnvironmentDocument, names: readonly string[]): string[];
  explain(environment: EnvironmentDocument, stored: IdentityDocument | null, subject: S, features?: readonly string[]): ExplainedAnswerView;
}

export interface ExplainInput {
  readonly identifier?: string;
  readonly traits?: unknown;
  readonly features?: readonly string[];
  readonly asOf?: string;
}

/** An explanation with the point of the log it was evaluated at. */
export interface ExplainedEvaluationView extends ExplainedAnswerView {
  readonly environment: { readonly id: number; readonly name: string };
  readonly position: number;
  /** When the event at that position was recorded. */
  readonly time: string;
}

/**
 * Explained evaluation, now or then: the environment document and the identity as they were at a
 * point of the log (the environment projection folded from the event store up to it), evaluated by
 * the evaluation side's serving code with a tracer. Read-only: no identity is stored.
 */
export class EvaluationsService {
  private readonly lookup: Lookup;
  readonly documents: EnvironmentHistory;

  constructor(
    private readonly context: AdminContext,
    private readonly explainer: EvaluationExplainerPort | undefined,
  ) {
    this.lookup = new Lookup(context.deps.catalog, context.history);
    this.documents = new EnvironmentHistory(context.deps.store, { identityIds: context.identityIdFor });
  }

  async explain(request: RequestContext, reference: string, input: ExplainInput): Promise<ExplainedEvaluationView> {
    if (this.explainer === undefined) throw new Error('Explained evaluation is not wired in this service');
    const subject = this.explainer.subject(input);
    if ('errors' in subject) throw new ValidationError('VALIDATION_FAILED', subject.errors);
    const point = await this.context.history.resolve(input.asOf === undefined ? { position: Math.max(1, this.context.deps.catalog.position) } : parseAsOf(input.asOf));
    // As of a point, the environment as it was then (deleted since or not); the caller's rights are today's.
    const { project, environment } =
      input.asOf === undefined
        ? this.lookup.environment(request.principal, reference, 'member', 'explain evaluations')
        : await this.lookup.readEnvironment({ ...request, asOf: point.position }, reference, 'member', 'explain evaluations');
    const document = await this.documents.environmentDocumentAt(project.projectId, environment.environmentId, point.position);
    if (document === null) throw new NotFoundError('ENVIRONMENT.NOT_FOUND', `Environment not found at position ${point.position}: it was created later`);
    const unknown = input.features === undefined ? [] : this.explainer.unknownFeatures(document, input.features);
    if (unknown.length > 0) {
      throw new ValidationError(
        'FEATURE.UNKNOWN',
        (input.features ?? []).flatMap((name, index) => (unknown.includes(name) ? [{ field: `features[${index}]`, message: `no feature "${name}" in this environment at position ${point.position}` }] : [])),
      );
    }
    const stored = input.identifier === undefined ? null : await this.documents.identityDocumentAt(document, input.identifier, point.position);
    const answer = this.explainer.explain(document, stored, subject, input.features);
    return { environment: { id: document.environmentId, name: document.name }, position: point.position, time: point.time, ...answer };
  }
}
