import type { EvaluationContext } from './types/evaluation-context.types';
import type { EvaluationResult } from './types/evaluation-result.types';
import { compileEnvironment, type EvaluationOrder } from './environment.compiler';
import { evaluate, type IdentityInput } from './evaluate';
import { toEvaluationResult } from './evaluation-result.mapper';

/**
 * Flagsmith's `get_evaluation_result`: evaluates a whole context, identity included, with the
 * reference semantics. It runs the production path (compile, evaluate, map), so it is exactly as
 * correct as the hot path; for repeated evaluations compile once and call `evaluate` instead.
 *
 * @param order - document order of integer-like `segments` / `features` keys, see {@link EvaluationOrder}.
 */
export function getEvaluationResult(context: EvaluationContext, order?: EvaluationOrder): EvaluationResult {
  const environment = compileEnvironment(context, order);
  const identity = (context as { identity?: unknown }).identity;
  return toEvaluationResult(evaluate(environment, (identity ?? null) as IdentityInput | null));
}
