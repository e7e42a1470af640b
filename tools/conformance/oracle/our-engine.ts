/**
 * Our engine's outcomes for an oracle case: the whole evaluation (`getEvaluationResult`), the
 * one-flag path (`evaluateFeatures`, as OFREP serves a single flag) and identity overrides
 * compiled apart (`compileIdentityOverrides`, as the evaluation service serves an identity).
 */
import {
  compileEnvironment,
  compileIdentityOverrides,
  evaluate,
  evaluateFeatures,
  getEvaluationResult,
  IDENTITY_OVERRIDES_SEGMENT_NAME,
  toEvaluationResult,
  type IdentityInput,
  type SegmentContext,
  type SegmentRule,
} from '@flagline/evaluation-engine';
import type { Outcome } from './compare';
import type { OracleCase } from './context-generator';

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The whole evaluation, or what it threw. */
export function ourOutcome(oracleCase: OracleCase): Outcome {
  try {
    return { result: getEvaluationResult(oracleCase.context, oracleCase.order) };
  } catch (error) {
    return { error: errorText(error) };
  }
}

/**
 * Our one-flag path (`evaluateFeatures`, as OFREP serves a single flag): every feature evaluated
 * on its own, put together like a whole result (the segments are the whole evaluation's, which
 * this path does not report).
 */
export function ourOneFlagOutcome(oracleCase: OracleCase, whole: Outcome): Outcome {
  if ('error' in whole) return whole;
  try {
    const environment = compileEnvironment(oracleCase.context, oracleCase.order);
    const identity: IdentityInput | null = oracleCase.context.identity ?? null;
    const flags: Record<string, unknown> = {};
    for (const name of oracleCase.order.features ?? Object.keys(oracleCase.context.features ?? {})) {
      const [outcome] = evaluateFeatures(environment, identity, [name]);
      if (outcome === undefined) continue;
      // defineProperty keeps a feature named `__proto__` an ordinary key.
      Object.defineProperty(flags, name, { value: toEvaluationResult({ flags: [outcome], segments: [] }).flags[name], enumerable: true, writable: true, configurable: true });
    }
    return { result: { flags, segments: (whole.result as { segments?: unknown }).segments } };
  } catch (error) {
    return { error: errorText(error) };
  }
}

function* conditionProperties(rules: readonly SegmentRule[]): Generator<string> {
  for (const rule of rules) {
    for (const condition of rule.conditions ?? []) yield condition.property;
    yield* conditionProperties(rule.rules ?? []);
  }
}

/**
 * Whether a condition runs a JSONPath query that may select nodes anywhere (`..`, `*`, a filter):
 * it would see the identity-override segment that the serving path takes out of the context.
 */
function queriesWholeContext(segments: Readonly<Record<string, SegmentContext>>): boolean {
  return Object.values(segments).some((segment) => [...conditionProperties(segment.rules)].some((property) => /^\$.*(\.\.|\*|\[\?)/.test(property)));
}

/** Whether `segment` is an SDK-built identity-override segment listing `identifier`. */
function isIdentityOverrideSegmentOf(segment: SegmentContext, identifier: string): boolean {
  if (segment.name !== IDENTITY_OVERRIDES_SEGMENT_NAME || segment.metadata?.['source'] !== 'identity_override') return false;
  const condition = segment.rules.length === 1 ? segment.rules[0]?.conditions?.[0] : undefined;
  if (condition?.property !== '$.identity.identifier' || condition.operator !== 'IN') return false;
  const listed = Array.isArray(condition.value) ? condition.value : typeof condition.value === 'string' ? condition.value.split(',') : [];
  return listed.includes(identifier);
}

/**
 * Our serving path for identity overrides: where the context gives the identity its overrides as
 * an SDK-built segment (`identity_overrides`, priority -Infinity), that segment is taken out and its
 * overrides are compiled with `compileIdentityOverrides`, as the evaluation service does. Returns
 * `undefined` when the context has no such segment for its identity, or when a condition queries
 * the whole context (which differs by that segment); the result lists the synthetic segment where
 * the whole evaluation does, so that it compares with the reference's.
 */
export function ourIdentityOverridesOutcome(oracleCase: OracleCase, whole: Outcome): Outcome | undefined {
  const identity = oracleCase.context.identity;
  const segments = oracleCase.context.segments ?? {};
  if ('error' in whole || !identity || queriesWholeContext(segments)) return undefined;
  const keys = Object.keys(segments).filter((key) => isIdentityOverrideSegmentOf(segments[key] as SegmentContext, identity.identifier));
  const [key] = keys;
  if (key === undefined || keys.length > 1) return undefined;
  // Listed is not matched: an identifier such as "007" reads as the int 7, which IN compares as
  // "7". Only where the segment matched do the overrides apply, and only there is this path taken.
  const matched = (whole.result as { segments: Array<{ name: string }> }).segments.some((segment) => segment.name === IDENTITY_OVERRIDES_SEGMENT_NAME);
  if (!matched) return undefined;
  try {
    const { [key]: synthetic, ...others } = segments;
    const environment = compileEnvironment(
      { ...oracleCase.context, segments: others },
      { ...oracleCase.order, segments: oracleCase.order.segments?.filter((other) => other !== key) },
    );
    const evaluation = evaluate(environment, identity, compileIdentityOverrides(environment, synthetic?.overrides ?? []));
    const result = toEvaluationResult(evaluation);
    // The serving path does not list the synthetic segment; it is put back at its place in the
    // context's order, to compare with the reference's list.
    const position = (oracleCase.order.segments ?? Object.keys(segments)).indexOf(key);
    const before = evaluation.segments.filter((segment) => segment.index < position).length;
    const listed = synthetic?.metadata && Object.keys(synthetic.metadata).length > 0 ? { name: synthetic.name, metadata: synthetic.metadata } : { name: IDENTITY_OVERRIDES_SEGMENT_NAME };
    result.segments.splice(before, 0, listed);
    return { result };
  } catch (error) {
    return { error: errorText(error) };
  }
}
