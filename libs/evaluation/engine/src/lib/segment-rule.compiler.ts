/** Segment rules compiled once per environment. */
import { compileCondition, type CompiledCondition } from './condition.compiler';
import type { PropertyTable } from './context-property';
import { isRecord } from './json-shape';

/**
 * How a rule combines its conditions, and separately its sub-rules. `Invalid` (not an object)
 * never matches. `UnknownType` matches only when it has neither conditions nor sub-rules: the
 * reference looks the type up only to combine them (and raises when there are some).
 */
export const RuleKind = { All: 0, Any: 1, None: 2, Invalid: 3, UnknownType: 4 } as const;

/** One of the {@link RuleKind} codes. */
export type RuleKind = (typeof RuleKind)[keyof typeof RuleKind];

/** A compiled rule. */
export interface CompiledRule {
  readonly kind: RuleKind;
  readonly conditions: readonly CompiledCondition[];
  readonly rules: readonly CompiledRule[];
}

const RULE_KINDS = new Map<unknown, RuleKind>([
  ['ALL', RuleKind.All],
  ['ANY', RuleKind.Any],
  ['NONE', RuleKind.None],
]);

/** Compiles a rule tree; malformed parts degrade to rules that never match. */
export function compileRule(raw: unknown, properties: PropertyTable): CompiledRule {
  if (!isRecord(raw)) return { kind: RuleKind.Invalid, conditions: [], rules: [] };
  const conditions = Array.isArray(raw['conditions']) ? raw['conditions'] : [];
  const rules = Array.isArray(raw['rules']) ? raw['rules'] : [];
  return {
    kind: RULE_KINDS.get(raw['type']) ?? RuleKind.UnknownType,
    conditions: conditions.map((condition) => compileCondition(condition, properties)),
    rules: rules.map((rule) => compileRule(rule, properties)),
  };
}
