/**
 * Rule matching. A rule's type applies to its conditions and, separately, to its sub-rules; the
 * rule matches when both groups pass (an empty group passes). A segment matches when it has rules
 * and all of its top-level rules match, whatever their type.
 */
import type { EvaluationScope } from './evaluation-scope';
import type { EvaluationTracer } from './evaluation-tracer';
import { conditionMatches } from './operators';
import { RuleKind, type CompiledRule } from './segment-rule.compiler';

function conditionsPass(rule: CompiledRule, scope: EvaluationScope, segmentKey: string): boolean {
  const conditions = rule.conditions;
  if (conditions.length === 0) return true;
  if (rule.kind === RuleKind.All) {
    for (const condition of conditions) if (!conditionMatches(condition, scope, segmentKey)) return false;
    return true;
  }
  let any = false;
  for (const condition of conditions) {
    if (conditionMatches(condition, scope, segmentKey)) {
      any = true;
      break;
    }
  }
  return rule.kind === RuleKind.Any ? any : !any;
}

function subRulesPass(rule: CompiledRule, scope: EvaluationScope, segmentKey: string): boolean {
  const rules = rule.rules;
  if (rules.length === 0) return true;
  if (rule.kind === RuleKind.All) {
    for (const subRule of rules) if (!ruleMatches(subRule, scope, segmentKey)) return false;
    return true;
  }
  let any = false;
  for (const subRule of rules) {
    if (ruleMatches(subRule, scope, segmentKey)) {
      any = true;
      break;
    }
  }
  return rule.kind === RuleKind.Any ? any : !any;
}

/** A rule's verdict by `match`, reported to the tracer around it. */
function tracedRule(rule: CompiledRule, scope: EvaluationScope, segmentKey: string, tracer: EvaluationTracer, match: typeof ruleMatches): boolean {
  tracer.ruleStarted(rule);
  const matched = match(rule, scope, segmentKey);
  tracer.ruleEnded(rule, matched);
  return matched;
}

/** Whether a rule matches in the scope. */
export function ruleMatches(rule: CompiledRule, scope: EvaluationScope, segmentKey: string): boolean {
  return scope.tracer === null ? matchRule(rule, scope, segmentKey) : tracedRule(rule, scope, segmentKey, scope.tracer, matchRule);
}

function matchRule(rule: CompiledRule, scope: EvaluationScope, segmentKey: string): boolean {
  if (rule.kind === RuleKind.Invalid) return false;
  if (rule.kind === RuleKind.UnknownType) return rule.conditions.length === 0 && rule.rules.length === 0;
  return conditionsPass(rule, scope, segmentKey) && subRulesPass(rule, scope, segmentKey);
}

/** Whether every top-level rule matches; callers skip segments without rules. */
export function rulesMatch(rules: readonly CompiledRule[], scope: EvaluationScope, segmentKey: string): boolean {
  for (const rule of rules) if (!ruleMatches(rule, scope, segmentKey)) return false;
  return true;
}

/**
 * `conditions` or `rules` combined by a rule's kind in the reference's order: each in turn, ALL
 * stopping at the first failure, ANY and NONE at the first success.
 */
function combineInOrder<T>(kind: RuleKind, items: readonly T[], test: (item: T) => boolean): boolean {
  if (kind === RuleKind.All) {
    for (const item of items) if (!test(item)) return false;
    return true;
  }
  for (const item of items) if (test(item)) return kind === RuleKind.Any;
  return kind !== RuleKind.Any;
}

/**
 * {@link ruleMatches} evaluating exactly what the reference evaluates, for segments whose
 * conditions read other flags (reads that resolve flags and may cut cycles, so which ones happen
 * matters): the sub-rules are evaluated even when the conditions already failed.
 */
export function ruleMatchesInOrder(rule: CompiledRule, scope: EvaluationScope, segmentKey: string): boolean {
  return scope.tracer === null ? matchRuleInOrder(rule, scope, segmentKey) : tracedRule(rule, scope, segmentKey, scope.tracer, matchRuleInOrder);
}

function matchRuleInOrder(rule: CompiledRule, scope: EvaluationScope, segmentKey: string): boolean {
  if (rule.kind === RuleKind.Invalid) return false;
  if (rule.kind === RuleKind.UnknownType) return rule.conditions.length === 0 && rule.rules.length === 0;
  const conditionsOk =
    rule.conditions.length === 0 || combineInOrder(rule.kind, rule.conditions, (condition) => conditionMatches(condition, scope, segmentKey));
  const rulesOk = rule.rules.length === 0 || combineInOrder(rule.kind, rule.rules, (subRule) => ruleMatchesInOrder(subRule, scope, segmentKey));
  return conditionsOk && rulesOk;
}

/** {@link rulesMatch} with {@link ruleMatchesInOrder}. */
export function rulesMatchInOrder(rules: readonly CompiledRule[], scope: EvaluationScope, segmentKey: string): boolean {
  for (const rule of rules) if (!ruleMatchesInOrder(rule, scope, segmentKey)) return false;
  return true;
}
