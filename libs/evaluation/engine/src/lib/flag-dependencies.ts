/**
 * Flag dependencies, as in Flagsmith's engine 11.1.1: a segment condition on
 * `$.flags.<feature name>.enabled` (or `.value`, or any other field of a flag result) reads that
 * flag's result. The flag is resolved on first read: the segments overriding it are matched first
 * (recursively, when their own conditions read flags), its winning state is picked and bucketed,
 * and the result is kept for the rest of the evaluation; kept results replace those of the plain
 * pass over the segments.
 *
 * A read of a flag that is still being resolved cuts a cycle. Every flag from that one up the
 * resolution stack is then in the cycle: none of them is kept, each read of one yields nothing
 * (and tries again, cutting the cycle again), and they report `ERROR; code=CIRCULAR_DEPENDENCY`
 * with the enabled state and value the plain pass gave them. A segment whose evaluation cut a
 * cycle neither matches nor has its verdict kept.
 *
 * Which conditions are evaluated, and in which order, decides which flags are resolved from where,
 * so segments reading flags are matched in the reference's exact order (`rulesMatchInOrder`).
 * Environments without `$.flags.` conditions never reach this module.
 */
import { followNames, jsonPathContextValue, type CompiledProperty } from './context-property';
import { NONE, type ContextValue } from './context-value';
import type { CompiledEnvironment, CompiledSegment } from './environment.compiler';
import type { EvaluationScope, FlagReader } from './evaluation-scope';
import { outcomeFor, type CompiledFeatureState, type FlagOutcome } from './feature-state.compiler';
import { recordKeyOrder } from './ordered-json-path';
import { rulesMatch, rulesMatchInOrder } from './segment-rule.evaluator';

/** Reason of a flag caught in a dependency cycle. */
export const CIRCULAR_DEPENDENCY_REASON = 'ERROR; code=CIRCULAR_DEPENDENCY';

/** Cycle outcomes per plain outcome, so they are as stable as the outcomes they come from. */
const circularOutcomes = new WeakMap<FlagOutcome, FlagOutcome>();

/** `outcome` with reason {@link CIRCULAR_DEPENDENCY_REASON}; the same object for the same outcome. */
export function circularDependencyOutcome(outcome: FlagOutcome): FlagOutcome {
  let circular = circularOutcomes.get(outcome);
  if (circular === undefined) {
    circular = Object.freeze({ ...outcome, reason: CIRCULAR_DEPENDENCY_REASON });
    circularOutcomes.set(outcome, circular);
  }
  return circular;
}

/** Whether a segment with rules matches; segments reading flags are matched in the reference's order. */
export function segmentMatches(segment: CompiledSegment, scope: EvaluationScope): boolean {
  return segment.readsFlags ? rulesMatchInOrder(segment.rules, scope, segment.keyText) : rulesMatch(segment.rules, scope, segment.keyText);
}

/** A field of a flag result, as `$.flags.<name>.<field>` reads it (`undefined`: no such field). */
function resultField(outcome: FlagOutcome, field: string): unknown {
  switch (field) {
    case 'name':
      return outcome.source.name;
    case 'enabled':
      return outcome.enabled;
    case 'value':
      return outcome.value;
    case 'reason':
      return outcome.reason;
    case 'variant':
      return outcome.variantKey;
    case 'metadata':
      return outcome.source.metadata;
    default:
      return undefined;
  }
}

/** A flag result as the context's `flags` holds it, for generic JSONPath queries. */
function resultDocument(outcome: FlagOutcome): Record<string, unknown> {
  const document: Record<string, unknown> = {
    enabled: outcome.enabled,
    name: outcome.source.name,
    reason: outcome.reason,
    value: outcome.value,
    variant: outcome.variantKey,
  };
  if (outcome.source.metadata !== undefined) document['metadata'] = outcome.source.metadata;
  return document;
}

function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The context's `flags` as generic JSONPath queries see it, behaving like the reference's mapping:
 * listing it (wildcards, filters, descendants) shows the flags resolved so far, in resolution
 * order, while selecting a name resolves that flag first and always finds a node: the flag's
 * result, or null when the flag is missing or in a cycle.
 */
function flagsMapping(resolved: Record<string, unknown>, read: (name: string) => unknown): Record<string, unknown> {
  const select = (key: string | symbol): boolean => {
    if (typeof key !== 'string' || Object.prototype.hasOwnProperty.call(resolved, key)) return false;
    read(key);
    return !Object.prototype.hasOwnProperty.call(resolved, key);
  };
  return new Proxy(resolved, {
    getOwnPropertyDescriptor(target, key) {
      if (select(key)) return { value: null, writable: true, enumerable: true, configurable: true };
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    has(target, key) {
      return select(key) || Reflect.has(target, key);
    },
    get(target, key, receiver) {
      return select(key) ? null : (Reflect.get(target, key, receiver) as unknown);
    },
  });
}

/** Resolves the flags conditions read, for one evaluation of an environment with flag dependencies. */
export class FlagResolver implements FlagReader {
  /** The flags resolved so far by name, in resolution order; built for the first generic query. */
  private resolvedDocument: Record<string, unknown> | undefined;
  /** The names of {@link resolvedDocument}, in resolution order (the order queries list them in). */
  private readonly resolvedNames: string[] = [];
  private mapping: Record<string, unknown> | undefined;
  /** Feature indexes in the order they were resolved. */
  private readonly resolutionOrder: number[] = [];
  /** Incremented each time a cycle is cut; a segment evaluation that moved it rests on a missing flag. */
  cycleHits = 0;
  /** Results resolved so far, by feature index. */
  private readonly resolved: Array<FlagOutcome | undefined> = [];
  /** Feature indexes found in a cycle; created by the first cycle. */
  private cyclic: Set<number> | undefined;
  /** Feature indexes being resolved, innermost last. */
  private readonly resolving: number[] = [];
  /** Verdicts of segments matched during resolution (never one that cut a cycle), by segment index. */
  private readonly verdicts: Array<boolean | undefined> = [];

  constructor(
    private readonly environment: CompiledEnvironment,
    private readonly scope: EvaluationScope,
    /** The identity's overrides by feature index: they beat every segment override. */
    private readonly identityStates: ReadonlyArray<CompiledFeatureState | undefined> | undefined,
    private readonly identityKey: string | null,
  ) {
    scope.flags = this;
  }

  get document(): Record<string, unknown> {
    if (this.mapping === undefined) {
      const resolved: Record<string, unknown> = {};
      for (const index of this.resolutionOrder) {
        const outcome = this.resolved[index];
        if (outcome !== undefined) this.addToDocument(resolved, outcome);
      }
      this.resolvedDocument = resolved;
      this.mapping = flagsMapping(resolved, (name) => this.flag(name));
      // Listing `flags` (wildcards, filters, descendants) follows resolution order, as the
      // reference's mapping does, whatever the names; the list grows as flags are resolved.
      recordKeyOrder(this.mapping, this.resolvedNames);
      recordKeyOrder(resolved, this.resolvedNames);
    }
    return this.mapping;
  }

  readFlag(property: CompiledProperty): ContextValue {
    const names = property.names;
    const outcome = this.flag(names[0] ?? '');
    // `$.flags.<name>` alone is the whole result, an object: None, but the flag was resolved.
    if (outcome === undefined || names.length < 2) return NONE;
    return jsonPathContextValue(followNames(resultField(outcome, names[1] ?? ''), names, 2));
  }

  /**
   * The final outcome of a feature whose plain pass gave `plain`: the resolved result if the flag
   * was resolved, with the cycle reason if it is in a cycle.
   */
  settle(featureIndex: number, plain: FlagOutcome): FlagOutcome {
    const outcome = this.resolved[featureIndex] ?? plain;
    return this.cyclic?.has(featureIndex) === true ? circularDependencyOutcome(outcome) : outcome;
  }

  /** Whether a segment matches, for a pass over segments: `false` when its evaluation cut a cycle. */
  passes(segment: CompiledSegment): boolean {
    const hits = this.cycleHits;
    this.scope.tracer?.segmentStarted(segment);
    const matches = segmentMatches(segment, this.scope);
    const cutCycle = this.cycleHits !== hits;
    this.scope.tracer?.segmentEnded(segment, matches && !cutCycle, cutCycle);
    return matches && !cutCycle;
  }

  /** A flag's result, resolving it on first read; `undefined` for a missing flag or one in a cycle. */
  private flag(name: string): FlagOutcome | undefined {
    const index = this.environment.featureIndexByName.get(name);
    if (index === undefined) return undefined;
    const known = this.resolved[index];
    if (known !== undefined) return known;
    this.resolve(index);
    return this.resolved[index];
  }

  private resolve(index: number): void {
    const position = this.resolving.indexOf(index);
    if (position >= 0) {
      const cyclic = (this.cyclic ??= new Set<number>());
      for (let at = position; at < this.resolving.length; at += 1) cyclic.add(this.resolving[at] ?? -1);
      this.cycleHits += 1;
      return;
    }
    this.resolving.push(index);
    const override = this.strongestOverride(index);
    this.resolving.pop();
    if (this.cyclic?.has(index) === true) return;
    const state = this.identityStates?.[index] ?? override ?? this.environment.defaults[index];
    if (state === undefined) return;
    const outcome = outcomeFor(state, this.identityKey, this.scope.tracer);
    this.resolved[index] = outcome;
    this.resolutionOrder.push(index);
    if (this.resolvedDocument !== undefined) this.addToDocument(this.resolvedDocument, outcome);
  }

  private addToDocument(resolved: Record<string, unknown>, outcome: FlagOutcome): void {
    defineOwn(resolved, outcome.feature.name, resultDocument(outcome));
    this.resolvedNames.push(outcome.feature.name);
  }

  /**
   * The override of the feature from the matching segments: every segment overriding it is
   * matched, in context order; the lowest priority wins, the first in context order on a tie. A
   * segment holding several overrides of the feature is checked once per override: a check that
   * cut a cycle is not kept, so a later check of the same segment may match.
   */
  private strongestOverride(index: number): CompiledFeatureState | undefined {
    let winner: CompiledFeatureState | undefined;
    for (const { segment, state } of this.environment.overridesByFeature[index] ?? []) {
      if (!this.matchesSegment(segment)) continue;
      if (winner === undefined || state.priority < winner.priority) winner = state;
    }
    return winner;
  }

  private matchesSegment(segment: CompiledSegment): boolean {
    const known = this.verdicts[segment.index];
    if (known !== undefined) return known;
    if (segment.rules.length === 0) return false;
    const hits = this.cycleHits;
    this.scope.tracer?.segmentStarted(segment);
    const matches = segmentMatches(segment, this.scope);
    const cutCycle = this.cycleHits !== hits;
    this.scope.tracer?.segmentEnded(segment, matches && !cutCycle, cutCycle);
    if (cutCycle) return false;
    this.verdicts[segment.index] = matches;
    return matches;
  }
}
