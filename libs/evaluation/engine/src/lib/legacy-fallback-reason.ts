/**
 * Comparison with results of engines older than Flagsmith's 11.x (the golden cases of
 * engine-test-data v3.9.0, the engine bundled in flagsmith-nodejs): those report every
 * environment default as `DEFAULT`, where the current engine reports `STATIC` for a feature that
 * no segment of the context overrides.
 */
import type { EvaluationContext } from './types/evaluation-context.types';
import type { EvaluationResult, FlagResult } from './types/evaluation-result.types';
import { DEFAULT_REASON, STATIC_REASON } from './environment.compiler';
import { isRecord } from './json-shape';

/** A result as an engine predating `STATIC` reports it, and the flags that were rewritten. */
export interface LegacyFallbackReasons {
  readonly result: EvaluationResult;
  /** Names of the flags whose `STATIC` reason became `DEFAULT`. */
  readonly rewritten: readonly string[];
}

function overriddenFeatureNames(context: EvaluationContext): Set<string> {
  const names = new Set<string>();
  const segments: unknown = (context as { segments?: unknown }).segments;
  if (!isRecord(segments)) return names;
  for (const segment of Object.values(segments)) {
    const overrides = isRecord(segment) ? segment['overrides'] : undefined;
    if (!Array.isArray(overrides)) continue;
    for (const override of overrides) if (isRecord(override) && typeof override['name'] === 'string') names.add(override['name']);
  }
  return names;
}

/**
 * `result` (evaluated from `context`) with reason `STATIC` reported as `DEFAULT`, as older engines
 * report it, for flags of features that no segment of the context overrides. Nothing else is
 * touched, so a result equal to an older engine's after this differs from it on that reason alone.
 */
export function withLegacyFallbackReasons(context: EvaluationContext, result: EvaluationResult): LegacyFallbackReasons {
  const overridden = overriddenFeatureNames(context);
  const rewritten: string[] = [];
  const flags: Record<string, FlagResult> = {};
  for (const [name, flag] of Object.entries(result.flags)) {
    const legacy = flag.reason === STATIC_REASON && !overridden.has(flag.name);
    if (legacy) rewritten.push(name);
    Object.defineProperty(flags, name, {
      value: legacy ? { ...flag, reason: DEFAULT_REASON } : flag,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { result: { ...result, flags }, rewritten };
}
