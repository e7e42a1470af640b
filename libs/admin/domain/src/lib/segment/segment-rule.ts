import { compilePythonRegex } from '@flagline/python-compat';
import semver from 'semver';
import type { FieldError } from '../shared/domain-error';
import { flagReferenceProblem } from './flag-reference';

export const RULE_TYPES = ['ALL', 'ANY', 'NONE'] as const;
export type RuleType = (typeof RULE_TYPES)[number];

export const OPERATORS = [
  'EQUAL',
  'NOT_EQUAL',
  'GREATER_THAN',
  'GREATER_THAN_INCLUSIVE',
  'LESS_THAN',
  'LESS_THAN_INCLUSIVE',
  'CONTAINS',
  'NOT_CONTAINS',
  'REGEX',
  'PERCENTAGE_SPLIT',
  'IS_SET',
  'IS_NOT_SET',
  'MODULO',
  'IN',
] as const;
export type Operator = (typeof OPERATORS)[number];

/** A condition on one property of the evaluation context: a trait name or a `$.` JSONPath. */
export interface SegmentCondition {
  readonly property: string;
  readonly operator: Operator;
  /** Always a string once validated; null only where the operator ignores it (IS_SET, IS_NOT_SET). */
  readonly value: string | null;
  readonly description?: string;
}

export interface SegmentRule {
  readonly type: RuleType;
  readonly conditions: readonly SegmentCondition[];
  readonly rules: readonly SegmentRule[];
}

export const MAX_RULE_DEPTH = 8;
export const MAX_CONDITIONS = 200;
export const MAX_CONDITION_VALUE_LENGTH = 1_000;

const SEMVER_SUFFIX = ':semver';
const NO_VALUE_OPERATORS: ReadonlySet<Operator> = new Set(['IS_SET', 'IS_NOT_SET']);

/** A condition value as a request may send it: IN may be a list, numbers and booleans are stringified. */
export type ConditionValueInput = string | number | boolean | null | undefined | readonly (string | number | boolean)[];

/** The stored string form of a condition value (IN lists become a JSON array). */
export function normaliseConditionValue(operator: Operator, value: ConditionValueInput): string | null {
  if (value === null || value === undefined) return NO_VALUE_OPERATORS.has(operator) ? null : '';
  if (Array.isArray(value)) return JSON.stringify(value.map((v) => String(v)));
  return String(value);
}

/** The SemVer 2.0 grammar (semver.org); node-semver alone would also accept a leading "v" or "=". */
const SEMVER_2 =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

function isStrictSemver(version: string): boolean {
  return SEMVER_2.test(version) && semver.parse(version) !== null;
}

/** Problems with one condition's value for its operator, as messages (empty when valid). */
export function conditionValueProblem(operator: Operator, value: string | null): string | null {
  if (NO_VALUE_OPERATORS.has(operator)) return null;
  if (value === null || value === '') return 'is required for this operator';
  if (value.length > MAX_CONDITION_VALUE_LENGTH) return `must be at most ${MAX_CONDITION_VALUE_LENGTH} characters`;
  if (value.endsWith(SEMVER_SUFFIX)) {
    const version = value.slice(0, -SEMVER_SUFFIX.length);
    if (!isStrictSemver(version)) return `"${version}" is not a valid semantic version`;
    return null;
  }
  switch (operator) {
    case 'REGEX':
      // The engine's own translation of Python's `re` syntax: what it evaluates is what is accepted.
      return compilePythonRegex(value) === null ? 'is not a valid regular expression' : null;
    case 'MODULO': {
      const parts = value.split('|');
      const [divisor, remainder] = parts.map((p) => Number(p.trim()));
      if (parts.length !== 2 || parts.some((p) => p.trim() === '') || !Number.isFinite(divisor) || !Number.isFinite(remainder))
        return 'must be "divisor|remainder", two numbers';
      if (divisor === 0) return 'divisor must not be zero';
      return null;
    }
    case 'PERCENTAGE_SPLIT': {
      const percentage = Number(value);
      if (value.trim() === '' || !Number.isFinite(percentage) || percentage < 0 || percentage > 100) return 'must be a number from 0 to 100';
      return null;
    }
    case 'IN': {
      if (value.startsWith('[')) {
        try {
          const parsed: unknown = JSON.parse(value);
          if (!Array.isArray(parsed) || parsed.some((v) => v !== null && typeof v === 'object'))
            return 'must be a comma-separated list or a JSON array of values';
        } catch {
          // Not JSON: evaluated as a comma-separated list, which any string is.
        }
      }
      return null;
    }
    case 'EQUAL':
    case 'NOT_EQUAL':
    case 'GREATER_THAN':
    case 'GREATER_THAN_INCLUSIVE':
    case 'LESS_THAN':
    case 'LESS_THAN_INCLUSIVE':
    case 'CONTAINS':
    case 'NOT_CONTAINS':
    case 'IS_SET':
    case 'IS_NOT_SET':
      return null;
  }
}

/** Raw rule input, as a request body carries it before validation. */
export interface SegmentRuleInput {
  readonly type: string;
  readonly conditions?: readonly {
    readonly property?: string | null;
    readonly operator: string;
    readonly value?: ConditionValueInput;
    readonly description?: string | null;
  }[];
  readonly rules?: readonly SegmentRuleInput[];
}

/**
 * Validates a rule tree and returns it in stored form, or the list of every problem, each
 * named by its path (`rules[0].conditions[1].value`).
 */
export function parseSegmentRules(
  input: readonly SegmentRuleInput[],
  path = 'rules',
): { rules: SegmentRule[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  let conditionCount = 0;

  const parseRule = (rule: SegmentRuleInput, at: string, depth: number): SegmentRule => {
    if (depth > MAX_RULE_DEPTH) errors.push({ field: at, message: `rules may nest at most ${MAX_RULE_DEPTH} levels` });
    if (!(RULE_TYPES as readonly string[]).includes(rule.type)) {
      errors.push({ field: `${at}.type`, message: `must be one of ${RULE_TYPES.join(', ')}` });
    }
    const conditions = (rule.conditions ?? []).map((condition, index) => {
      conditionCount++;
      const where = `${at}.conditions[${index}]`;
      const operator = condition.operator as Operator;
      if (!(OPERATORS as readonly string[]).includes(condition.operator)) {
        errors.push({ field: `${where}.operator`, message: `must be one of ${OPERATORS.join(', ')}` });
        return { property: condition.property ?? '', operator, value: null };
      }
      const property = condition.property ?? '';
      if (property === '' && operator !== 'PERCENTAGE_SPLIT') errors.push({ field: `${where}.property`, message: 'is required' });
      if (property.length > MAX_CONDITION_VALUE_LENGTH)
        errors.push({ field: `${where}.property`, message: `must be at most ${MAX_CONDITION_VALUE_LENGTH} characters` });
      const referenceProblem = flagReferenceProblem(property);
      if (referenceProblem) errors.push({ field: `${where}.property`, message: referenceProblem });
      const value = normaliseConditionValue(operator, condition.value);
      const problem = conditionValueProblem(operator, value);
      if (problem) errors.push({ field: `${where}.value`, message: problem });
      return {
        property,
        operator,
        value,
        ...(condition.description ? { description: condition.description } : {}),
      };
    });
    const rules = (rule.rules ?? []).map((child, index) => parseRule(child, `${at}.rules[${index}]`, depth + 1));
    return { type: rule.type as RuleType, conditions, rules };
  };

  const rules = input.map((rule, index) => parseRule(rule, `${path}[${index}]`, 1));
  if (conditionCount > MAX_CONDITIONS) errors.push({ field: path, message: `a segment may hold at most ${MAX_CONDITIONS} conditions` });
  return { rules, errors };
}
