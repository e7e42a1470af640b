/**
 * Our engine's outcomes for an oracle case: the whole evaluation (`getEvaluationResult`) and the
 * one-flag path (`evaluateFeatures`, as OFREP serves a single flag).
 */
import {
  compileEnvironment,
  evaluateFeatures,
  getEvaluationResult,
  toEvaluationResult,
  type IdentityInput,
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
