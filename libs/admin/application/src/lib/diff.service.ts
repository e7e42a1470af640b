import { isDeepStrictEqual } from 'node:util';
import { NotFoundError, toProjectStreamName, ValidationError, type FieldError, type Project, type ProjectEvent } from '@flagline/admin-domain';
import { parseAsOf, type AsOf } from '@flagline/admin-projections';
import type { Actor, RecordedEvent } from '@flagline/event-sourcing';
import type { AdminContext, RequestContext } from './admin-context';
import { environmentNotFound, Lookup, projectNotFound } from './lookup';
import { requireRole } from './principal';
import { apiKeyView, environmentView, featureStateView, featureView, projectView, segmentOverrideView, segmentView, tagView } from './views';

/** A point of a diff: the log position and the time it was recorded at. */
export interface DiffPointView {
  readonly position: number;
  /** Null for position 0, before the first event (an absent `from`). */
  readonly time: string | null;
}

/** Before the first event of the log: what an absent `from` names (the initial state, empty). */
const BEFORE_LOG: DiffPointView = { position: 0, time: null };

export interface DiffEventView {
  readonly id: string;
  readonly position: number;
  readonly type: string;
  readonly actor: Actor;
  readonly occurredAt: string;
}

export type DiffEntityKind = 'project' | 'feature' | 'segment' | 'tag' | 'environment' | 'serverKey' | 'featureState' | 'segmentOverride' | 'segmentOverrideOrder';

export interface DiffChangeView {
  readonly entity: { readonly kind: DiffEntityKind; readonly id: string; readonly name?: string };
  /** The field that changed; `entity` when the entity was added (before null) or removed (after null), with all its fields. */
  readonly field: string;
  readonly before: unknown;
  readonly after: unknown;
  /** The events between the two points that changed this entity, in log order. */
  readonly events: readonly DiffEventView[];
}

export interface DiffView {
  readonly from: DiffPointView;
  readonly to: DiffPointView;
  readonly changes: readonly DiffChangeView[];
}

interface EntityAt {
  readonly name?: string;
  /** The entity's view, as the admin reads show it. */
  readonly fields: object;
}

/** Keys of a map whose entries differ between two versions (by reference: evolve keeps what an event does not touch). */
function changedKeys<K, V>(before: ReadonlyMap<K, V> | undefined, after: ReadonlyMap<K, V> | undefined): K[] {
  if (before === after) return [];
  const changed: K[] = [];
  let added = 0;
  for (const [key, value] of after ?? []) {
    if (before?.get(key) === value) continue;
    changed.push(key);
    if (!before?.has(key)) added++;
  }
  // The keys of `after` also in `before` number before.size less the removed ones: when they are
  // all of `before`'s, none was removed and `before` need not be walked (most events change one entry).
  if ((after?.size ?? 0) - added !== (before?.size ?? 0)) for (const key of before?.keys() ?? []) if (!after?.has(key)) changed.push(key);
  return changed;
}

const ENVIRONMENT_FIELDS = (project: Project, environmentId: number): object | undefined => {
  const environment = project.environments.get(environmentId);
  return environment ? environmentView(project, environment) : undefined;
};

/**
 * Keys (`kind:id`) of the entities an event changed, found by comparing the project before and
 * after it: the domain's evolve decides what changed, not a second reading of the event.
 */
export function touchedEntities(before: Project, after: Project): string[] {
  const keys: string[] = [];
  if (!isDeepStrictEqual(before.status === 'active' ? projectView(before) : null, after.status === 'active' ? projectView(after) : null)) keys.push('project:');
  for (const id of changedKeys(before.features, after.features)) keys.push(`feature:${id}`);
  for (const id of changedKeys(before.segments, after.segments)) keys.push(`segment:${id}`);
  for (const id of changedKeys(before.tags, after.tags)) keys.push(`tag:${id}`);
  for (const environmentId of changedKeys(before.environments, after.environments)) {
    const was = before.environments.get(environmentId);
    const is = after.environments.get(environmentId);
    if (!isDeepStrictEqual(ENVIRONMENT_FIELDS(before, environmentId), ENVIRONMENT_FIELDS(after, environmentId))) keys.push(`environment:${environmentId}`);
    for (const keyId of changedKeys(was?.serverKeys, is?.serverKeys)) keys.push(`serverKey:${environmentId}:${keyId}`);
    for (const featureId of changedKeys(was?.featureStates, is?.featureStates)) keys.push(`featureState:${environmentId}:${featureId}`);
    for (const featureId of changedKeys(was?.segmentOverrides, is?.segmentOverrides)) {
      const old = new Map((was?.segmentOverrides.get(featureId) ?? []).map((override) => [override.segmentId, override]));
      const now = new Map((is?.segmentOverrides.get(featureId) ?? []).map((override) => [override.segmentId, override]));
      for (const segmentId of changedKeys(old, now)) keys.push(`segmentOverride:${environmentId}:${featureId}:${segmentId}`);
      if (!isDeepStrictEqual([...old.keys()], [...now.keys()])) keys.push(`segmentOverrideOrder:${environmentId}:${featureId}`);
    }
  }
  return keys;
}

/** An entity's fields in a project state, as the admin reads show them; undefined when it does not exist there. */
export function entityAt(project: Project, key: string): EntityAt | undefined {
  const [kind = '', ...ids] = key.split(':');
  const [first, second, third] = ids.map(Number) as [number, number, number];
  if (project.status !== 'active') return undefined;
  switch (kind as DiffEntityKind) {
    case 'project':
      return { name: project.name, fields: projectView(project) };
    case 'feature': {
      const feature = project.features.get(first);
      return feature && { name: feature.name, fields: featureView(project, feature) };
    }
    case 'segment': {
      const segment = project.segments.get(first);
      return segment && { name: segment.name, fields: segmentView(project, segment) };
    }
    case 'tag': {
      const tag = project.tags.get(first);
      return tag && { name: tag.label, fields: tagView(project, tag) };
    }
    case 'environment': {
      const environment = project.environments.get(first);
      return environment && { name: environment.name, fields: environmentView(project, environment) };
    }
    case 'serverKey': {
      const key = project.environments.get(first)?.serverKeys.get(ids[1] ?? '');
      return key && { name: key.name, fields: apiKeyView(key) };
    }
    case 'featureState': {
      const environment = project.environments.get(first);
      const feature = project.features.get(second);
      const state = environment?.featureStates.get(second);
      if (!environment || !feature || !state) return undefined;
      const { featureName: _name, ...fields } = featureStateView(environment, feature, state);
      return { name: feature.name, fields };
    }
    case 'segmentOverride': {
      const environment = project.environments.get(first);
      const feature = project.features.get(second);
      const override = environment?.segmentOverrides.get(second)?.find((candidate) => candidate.segmentId === third);
      if (!environment || !feature || !override) return undefined;
      // Priority is the order's business (segmentOverrideOrder), names are the feature's and the segment's.
      const { featureName: _feature, segmentName, priority: _priority, ...fields } = segmentOverrideView(project, environment, feature, override, 0);
      return { name: `${feature.name} / ${segmentName}`, fields };
    }
    case 'segmentOverrideOrder': {
      const environment = project.environments.get(first);
      const feature = project.features.get(second);
      const overrides = environment?.segmentOverrides.get(second);
      if (!environment || !feature || !overrides) return undefined;
      return { name: feature.name, fields: { order: overrides.map((override) => override.segmentId) } };
    }
    default:
      return undefined;
  }
}

/** The changes of the given entities between two states of a project, field by field. */
export function changesBetween(from: Project, to: Project, events: ReadonlyMap<string, readonly DiffEventView[]>): DiffChangeView[] {
  const changes: DiffChangeView[] = [];
  for (const [key, behind] of events) {
    const before = entityAt(from, key);
    const after = entityAt(to, key);
    if (!before && !after) continue;
    const [kind, ...ids] = key.split(':');
    const entity = { kind: kind as DiffEntityKind, id: kind === 'project' ? String(to.projectId || from.projectId) : ids.join(':'), ...((after ?? before)?.name !== undefined ? { name: (after ?? before)?.name } : {}) };
    if (!before || !after) {
      changes.push({ entity, field: 'entity', before: before?.fields ?? null, after: after?.fields ?? null, events: behind });
      continue;
    }
    const was = before.fields as Readonly<Record<string, unknown>>;
    const is = after.fields as Readonly<Record<string, unknown>>;
    for (const field of new Set([...Object.keys(was), ...Object.keys(is)])) {
      if (!isDeepStrictEqual(was[field], is[field])) changes.push({ entity, field, before: was[field] ?? null, after: is[field] ?? null, events: behind });
    }
  }
  return changes;
}

const eventView = (event: RecordedEvent<ProjectEvent>): DiffEventView => ({
  id: event.id,
  position: event.globalPosition,
  type: event.type,
  actor: event.metadata.actor,
  occurredAt: event.metadata.occurredAt,
});

/**
 * What changed in a project or an environment between two points of the log: the project's
 * states at both points (folded as of each, as the as-of reads are) compared entity by entity
 * and field by field as the admin reads show them, each change with the events between the two
 * points that changed that entity.
 */
export class DiffService {
  private readonly lookup: Lookup;

  constructor(private readonly context: AdminContext) {
    this.lookup = new Lookup(context.catalog, context.history);
  }

  /**
   * Reads `from` and `to` (each an ISO-8601 time or a log position), naming each bad one. An
   * absent `from` is before the log (position 0: every event is in the range, whatever the store's
   * positions are), an absent `to` the head of the log.
   */
  private async points(from: string | undefined, to: string | undefined): Promise<{ from: DiffPointView; to: DiffPointView }> {
    const errors: FieldError[] = [];
    const head = await this.context.deps.store.headPosition();
    const parse = (text: string | undefined, field: string): AsOf | undefined => {
      if (text === undefined) return { position: Math.max(head, 1) };
      try {
        return parseAsOf(text, field);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        errors.push(...error.fields);
        return undefined;
      }
    };
    const parsed = { from: parse(from, 'from'), to: parse(to, 'to') };
    const resolve = async (asOf: AsOf | undefined, field: string): Promise<DiffPointView | undefined> => {
      if (!asOf) return undefined;
      try {
        return await this.context.history.resolve(asOf, field);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        errors.push(...error.fields);
        return undefined;
      }
    };
    const points = { from: from === undefined ? BEFORE_LOG : await resolve(parsed.from, 'from'), to: await resolve(parsed.to, 'to') };
    if (points.from && points.to && points.from.position > points.to.position) errors.push({ field: 'from', message: `is after to (positions ${points.from.position} > ${points.to.position})` });
    if (errors.length > 0 || !points.from || !points.to) throw new ValidationError('DIFF.INVALID_RANGE', errors);
    return { from: points.from, to: points.to };
  }

  private async diff(projectId: number, range: { from: DiffPointView; to: DiffPointView }, keep: (key: string) => boolean): Promise<{ view: DiffView; from: Project; to: Project }> {
    const events = new Map<string, DiffEventView[]>();
    const states = await this.context.history.walkProject(projectId, range.from.position, range.to.position, (before, after, event) => {
      for (const key of touchedEntities(before, after).filter(keep)) {
        const list = events.get(key) ?? [];
        list.push(eventView(event));
        events.set(key, list);
      }
    });
    return { view: { ...range, changes: changesBetween(states.from, states.to, events) }, ...states };
  }

  /** The changes to a project (its catalogue and every environment) between two points. */
  async project(request: RequestContext, projectId: number, from: string | undefined, to: string | undefined): Promise<DiffView> {
    const known = this.context.catalog.snapshot(toProjectStreamName(projectId))?.state as Project | undefined;
    if (!known) throw projectNotFound();
    requireRole(this.context.catalog, request.principal, known.organisationId, 'member', 'read this project', projectNotFound);
    const { view, from: before, to: after } = await this.diff(projectId, await this.points(from, to), () => true);
    if (before.status !== 'active' && after.status !== 'active') throw projectNotFound();
    return view;
  }

  /** The changes to one environment (its settings, keys, feature states and segment overrides) between two points. */
  async environment(request: RequestContext, reference: string, from: string | undefined, to: string | undefined): Promise<DiffView> {
    const byId = /^\d+$/.test(reference);
    const projectId = this.context.catalog.projectIdHolding(byId ? `environmentId:${reference}` : `apiKey:${reference}`);
    const known = projectId === undefined ? undefined : (this.context.catalog.snapshot(toProjectStreamName(projectId))?.state as Project | undefined);
    if (projectId === undefined || !known) throw environmentNotFound();
    requireRole(this.context.catalog, request.principal, known.organisationId, 'member', 'read environments', environmentNotFound);
    const range = await this.points(from, to);
    // The environment as the as-of reads find it (by id or key) at `to`, else at `from`: one deleted since, or in between, is found where it still exists.
    const read = (point: DiffPointView) => this.lookup.readEnvironment({ ...request, asOf: point.position }, reference, 'member', 'read environments');
    const { environment } = await read(range.to).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
      return read(range.from);
    });
    const id = environment.environmentId;
    const prefix = [`environment:${id}`, `serverKey:${id}:`, `featureState:${id}:`, `segmentOverride:${id}:`, `segmentOverrideOrder:${id}:`];
    const { view } = await this.diff(projectId, range, (key) => prefix.some((start) => key === start || (start.endsWith(':') && key.startsWith(start))));
    return view;
  }
}
