/**
 * Flag dependencies: edges feature → feature. Feature F depends on feature G when, in any
 * environment of the project, F has a segment override for a segment whose rules read
 * `$.flags.G.enabled` or `$.flags.G.value`. Segment rules are project-wide and overrides are per
 * environment, so the graph is the union over the project's environments: a segment used by
 * overrides of several features makes each of them depend on what it reads, and a dependency that
 * exists in one environment counts for the whole project (cloning that environment, or adding the
 * same override elsewhere, must never be the step that creates a cycle).
 *
 * The graph is derived from the project state, never stored: it is built only for writes that can
 * add an edge (changing a segment's rules to read a flag, overriding a feature with such a
 * segment, renaming a feature to a name a segment reads) or remove a referenced feature, and for
 * views; it is memoised per project state, and a project whose segments read no flag builds an
 * empty graph after one look at each segment's (memoised) reads.
 */
import { ConflictError, ValidationError, type FieldError } from '../shared/domain-error';
import { flagReadsOf } from '../segment/flag-reference';
import type { SegmentRule } from '../segment/segment-rule';
import type { ProjectEvent } from './project.events';
import { evolveProject } from './project.evolve';
import type { Feature, Project } from './project.state';

/** A segment through which a dependency runs, with the environments whose overrides use it. */
export interface DependencyVia {
  readonly segmentId: number;
  readonly environmentIds: readonly number[];
}

/** One edge seen from one end: the other feature, and the segments it runs through. */
export interface FeatureDependency {
  readonly featureId: number;
  readonly via: readonly DependencyVia[];
}

type Edges = Map<number, Map<number, Map<number, Set<number>>>>;

function addEdge(edges: Edges, from: number, to: number, segmentId: number, environmentId: number): void {
  let targets = edges.get(from);
  if (!targets) edges.set(from, (targets = new Map<number, Map<number, Set<number>>>()));
  let segments = targets.get(to);
  if (!segments) targets.set(to, (segments = new Map<number, Set<number>>()));
  let environments = segments.get(segmentId);
  if (!environments) segments.set(segmentId, (environments = new Set<number>()));
  environments.add(environmentId);
}

const ascending = (a: number, b: number): number => a - b;

function listed(targets: ReadonlyMap<number, ReadonlyMap<number, ReadonlySet<number>>> | undefined): FeatureDependency[] {
  if (!targets) return [];
  return [...targets]
    .sort(([a], [b]) => a - b)
    .map(([featureId, segments]) => ({
      featureId,
      via: [...segments].sort(([a], [b]) => a - b).map(([segmentId, environments]) => ({ segmentId, environmentIds: [...environments].sort(ascending) })),
    }));
}

/** The dependency graph of one project state. */
export class FeatureDependencies {
  constructor(
    private readonly forward: Edges,
    private readonly backward: Edges,
    /** Feature id → ids of the segments whose rules read it (whether or not an override uses them). */
    private readonly readers: ReadonlyMap<number, readonly number[]>,
  ) {}

  /** The features `featureId` reads, through the segments of its overrides. */
  dependsOn(featureId: number): FeatureDependency[] {
    return listed(this.forward.get(featureId));
  }

  /** The features that read `featureId`. */
  dependents(featureId: number): FeatureDependency[] {
    return listed(this.backward.get(featureId));
  }

  /** Ids of the segments whose rules read `featureId`. */
  segmentsReading(featureId: number): readonly number[] {
    return this.readers.get(featureId) ?? [];
  }

  /** Whether `from` depends on `to` directly. */
  hasEdge(from: number, to: number): boolean {
    return this.forward.get(from)?.has(to) ?? false;
  }

  /** Every edge, as `[from, to]` pairs. */
  *edges(): IterableIterator<readonly [number, number]> {
    for (const [from, targets] of this.forward) for (const to of targets.keys()) yield [from, to];
  }

  /** The shortest chain of dependencies from `from` to `to` (both included), or null. */
  path(from: number, to: number): number[] | null {
    const previous = new Map<number, number>([[from, from]]);
    const queue = [from];
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head] as number;
      if (node === to) {
        const chain = [to];
        for (let at = to; at !== from; at = previous.get(at) as number) chain.push(previous.get(at) as number);
        return chain.reverse();
      }
      for (const next of this.forward.get(node)?.keys() ?? []) {
        if (!previous.has(next)) {
          previous.set(next, node);
          queue.push(next);
        }
      }
    }
    return null;
  }
}

const EMPTY = new FeatureDependencies(new Map(), new Map(), new Map());
const graphs = new WeakMap<Project, FeatureDependencies>();

function buildDependencies(project: Project): FeatureDependencies {
  let idsByName: Map<string, number> | undefined;
  const reads = new Map<number, number[]>();
  const readers = new Map<number, number[]>();
  for (const segment of project.segments.values()) {
    const segmentReads = flagReadsOf(segment.rules);
    if (segmentReads.length === 0) continue;
    idsByName ??= new Map([...project.features.values()].map((feature) => [feature.name, feature.featureId]));
    const targets = new Set<number>();
    for (const read of segmentReads) {
      const featureId = idsByName.get(read.featureName);
      if (featureId !== undefined) targets.add(featureId);
    }
    if (targets.size === 0) continue;
    reads.set(segment.segmentId, [...targets]);
    for (const featureId of targets) readers.set(featureId, [...(readers.get(featureId) ?? []), segment.segmentId]);
  }
  if (reads.size === 0) return EMPTY;
  const forward: Edges = new Map();
  const backward: Edges = new Map();
  for (const environment of project.environments.values()) {
    for (const [featureId, overrides] of environment.segmentOverrides) {
      for (const override of overrides) {
        for (const target of reads.get(override.segmentId) ?? []) {
          addEdge(forward, featureId, target, override.segmentId, environment.environmentId);
          addEdge(backward, target, featureId, override.segmentId, environment.environmentId);
        }
      }
    }
  }
  return new FeatureDependencies(forward, backward, readers);
}

/** The flag-dependency graph of a project state (memoised per state). */
export function featureDependencies(project: Project): FeatureDependencies {
  let graph = graphs.get(project);
  if (!graph) {
    graph = buildDependencies(project);
    graphs.set(project, graph);
  }
  return graph;
}

const featureName = (project: Project, featureId: number): string => project.features.get(featureId)?.name ?? String(featureId);

/**
 * Every flag the rules read must name a feature of the project, exactly (the engine looks flags
 * up by exact name). 400 naming each condition's property otherwise.
 */
export function checkFlagReadsKnown(project: Project, rules: readonly SegmentRule[]): void {
  const reads = flagReadsOf(rules);
  if (reads.length === 0) return;
  const names = new Set([...project.features.values()].map((feature) => feature.name));
  const errors: FieldError[] = [];
  for (const read of reads) {
    if (names.has(read.featureName)) continue;
    const wanted = read.featureName.toLowerCase();
    const near = [...names].find((name) => name.toLowerCase() === wanted);
    errors.push({
      field: read.path,
      message: `reads feature "${read.featureName}", which does not exist in this project${near ? ` (names are case-sensitive here: did you mean "${near}"?)` : ''}`,
    });
  }
  if (errors.length > 0) throw new ValidationError('SEGMENT.DEPENDENCY_UNKNOWN_FEATURE', errors);
}

/** The project state after `events`, to check what a decision would lead to. */
export function projectAfter(project: Project, events: readonly ProjectEvent[]): Project {
  return events.reduce((state, event) => evolveProject(state, event, state.revision + 1), project);
}

/**
 * Refuses a change that adds a dependency closing a cycle (409 `FEATURE.DEPENDENCY_CYCLE`, the
 * cycle in the message and, by name and id, in the details). Only edges the change adds are
 * followed, so a write is never blamed for a cycle it did not create.
 */
export function checkNoNewCycle(before: Project, after: Project): void {
  const old = featureDependencies(before);
  const next = featureDependencies(after);
  for (const [from, to] of next.edges()) {
    if (old.hasEdge(from, to)) continue;
    const back = next.path(to, from);
    if (back === null) continue;
    const cycle = [from, ...back];
    const names = cycle.map((featureId) => featureName(after, featureId));
    throw new ConflictError('FEATURE.DEPENDENCY_CYCLE', `Flag dependencies may not form a cycle: ${names.join(' → ')}`, {
      cycle: cycle.map((featureId, index) => ({ id: featureId, name: names[index] })),
    });
  }
}

/**
 * Refuses to delete or rename a feature that segment rules read (409 `FEATURE.HAS_DEPENDENTS`,
 * naming the dependent features and the reading segments): the reads would dangle, silently
 * turning those conditions false.
 */
export function checkNotRead(project: Project, feature: Feature, action: 'deleted' | 'renamed'): void {
  const graph = featureDependencies(project);
  const segmentIds = graph.segmentsReading(feature.featureId);
  if (segmentIds.length === 0) return;
  const dependents = graph.dependents(feature.featureId).map((dependency) => ({ id: dependency.featureId, name: featureName(project, dependency.featureId) }));
  const segments = [...segmentIds].sort(ascending).map((segmentId) => ({ id: segmentId, name: project.segments.get(segmentId)?.name ?? String(segmentId) }));
  const quoted = (items: readonly { name: string }[]): string => items.map((item) => `"${item.name}"`).join(', ');
  const who = `${dependents.length > 0 ? `feature(s) ${quoted(dependents)} depend on it; ` : ''}segment(s) ${quoted(segments)} read it`;
  throw new ConflictError(
    'FEATURE.HAS_DEPENDENTS',
    `Feature "${feature.name}" cannot be ${action}: ${who}; change those segments' rules first`,
    { dependents, segments },
  );
}
