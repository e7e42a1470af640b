/**
 * Condition matching with Flagsmith's reference (Python) semantics. Typed comparisons cast the
 * condition value to the context value's type; anything Python would raise on is a non-match.
 */
import { Operator, type CompiledCondition } from './condition.compiler';
import { contextValueToString, NONE, ValueKind, type ContextValue } from './context-value';
import type { EvaluationScope } from './evaluation-scope';
import { comparePyInts, pyFloatModulo, pyIntToString } from './python/python-number';
import { compareSemVer, parseSemVer } from './python/python-semver';
import { comparePyStrings } from './python/python-string';
import { matchesPythonRegex } from './python/python-regex.translator';

/** Applies an ordering operator to a three-way comparison result. */
function satisfies(operator: Operator, order: number): boolean {
  switch (operator) {
    case Operator.Equal:
      return order === 0;
    case Operator.NotEqual:
      return order !== 0;
    case Operator.GreaterThan:
      return order > 0;
    case Operator.GreaterThanInclusive:
      return order >= 0;
    case Operator.LessThan:
      return order < 0;
    case Operator.LessThanInclusive:
      return order <= 0;
    case Operator.Unknown:
    case Operator.Contains:
    case Operator.NotContains:
    case Operator.Regex:
    case Operator.Modulo:
    case Operator.In:
    case Operator.IsSet:
    case Operator.IsNotSet:
    case Operator.PercentageSplit:
      return false;
  }
}

/** Float comparison with IEEE semantics (NaN equals nothing, differs from everything), as Python. */
function compareFloats(operator: Operator, left: number, right: number): boolean {
  switch (operator) {
    case Operator.Equal:
      return left === right;
    case Operator.NotEqual:
      return left !== right;
    case Operator.GreaterThan:
      return left > right;
    case Operator.GreaterThanInclusive:
      return left >= right;
    case Operator.LessThan:
      return left < right;
    case Operator.LessThanInclusive:
      return left <= right;
    case Operator.Unknown:
    case Operator.Contains:
    case Operator.NotContains:
    case Operator.Regex:
    case Operator.Modulo:
    case Operator.In:
    case Operator.IsSet:
    case Operator.IsNotSet:
    case Operator.PercentageSplit:
      return false;
  }
}

function compareSemVerContext(condition: CompiledCondition, text: string): boolean {
  const version = parseSemVer(text);
  if (version === undefined) return false;
  if (condition.operator === Operator.Contains) {
    // Python's `in` walks the version's parts, so only the prerelease or build text can equal it.
    return condition.semVerText === version.prerelease || condition.semVerText === version.build;
  }
  const operand = condition.semVerOperand;
  return operand !== undefined && satisfies(condition.operator, compareSemVer(version, operand));
}

/** EQUAL, NOT_EQUAL, the orderings and CONTAINS against a non-None context value. */
function matchesTyped(condition: CompiledCondition, context: ContextValue): boolean {
  const operator = condition.operator;
  switch (context.kind) {
    case ValueKind.Str: {
      if (condition.isSemVer) return compareSemVerContext(condition, context.value);
      const operand = condition.stringOperand;
      if (operand === undefined) return false;
      if (operator === Operator.Contains) return context.value.includes(operand);
      if (operator === Operator.Equal) return context.value === operand;
      if (operator === Operator.NotEqual) return context.value !== operand;
      return satisfies(operator, comparePyStrings(context.value, operand));
    }
    case ValueKind.Int: {
      const operand = condition.intOperand;
      return operand !== undefined && satisfies(operator, comparePyInts(context.value, operand));
    }
    case ValueKind.Float: {
      const operand = condition.floatOperand;
      return operand !== undefined && compareFloats(operator, context.value, operand);
    }
    case ValueKind.Bool:
      return satisfies(operator, Number(context.value) - Number(condition.boolOperand));
    case ValueKind.None:
      return false;
  }
}

function matchesModulo(condition: CompiledCondition, context: ContextValue): boolean {
  const divisor = condition.moduloDivisor;
  if (divisor === undefined) return false;
  let dividend: number;
  // Python bools are ints, so they take part in MODULO.
  if (context.kind === ValueKind.Int) dividend = Number(context.value);
  else if (context.kind === ValueKind.Float) dividend = context.value;
  else if (context.kind === ValueKind.Bool) dividend = context.value ? 1 : 0;
  else return false;
  return pyFloatModulo(dividend, divisor) === condition.moduloRemainder;
}

function matchesIn(condition: CompiledCondition, context: ContextValue): boolean {
  const values = condition.inValues;
  if (values === null) return false;
  // Ints are compared by their decimal text; bools, floats and None never match.
  if (context.kind === ValueKind.Str) return values.has(context.value);
  if (context.kind === ValueKind.Int) return values.has(pyIntToString(context.value));
  return false;
}

function matchesPercentageSplit(condition: CompiledCondition, context: ContextValue, scope: EvaluationScope, segmentKey: string): boolean {
  const threshold = condition.splitThreshold;
  if (threshold === undefined) return false;
  let splitKey: string;
  if (condition.property === null) {
    if (scope.identity === null) return false;
    splitKey = scope.identity.keyText;
  } else {
    if (context.kind === ValueKind.None) return false;
    splitKey = contextValueToString(context);
  }
  const percentage = scope.splitPercentage(segmentKey, splitKey);
  if (scope.tracer !== null) scope.tracer.splitHashed(condition, splitKey, percentage);
  return percentage <= threshold;
}

/**
 * Whether a condition holds in the scope.
 *
 * @param segmentKey - Python `str()` of the segment key, hashed by PERCENTAGE_SPLIT.
 */
export function conditionMatches(condition: CompiledCondition, scope: EvaluationScope, segmentKey: string): boolean {
  const context = condition.property === null ? NONE : scope.resolve(condition.property);
  const matched = matchesContext(condition, context, scope, segmentKey);
  if (scope.tracer !== null) scope.tracer.conditionEvaluated(condition, context, matched);
  return matched;
}

/** Whether a condition holds for the context value its property resolved to. */
function matchesContext(condition: CompiledCondition, context: ContextValue, scope: EvaluationScope, segmentKey: string): boolean {
  switch (condition.operator) {
    case Operator.IsSet:
      return context.kind !== ValueKind.None;
    case Operator.IsNotSet:
      return context.kind === ValueKind.None;
    case Operator.PercentageSplit:
      return matchesPercentageSplit(condition, context, scope, segmentKey);
    case Operator.In:
      return matchesIn(condition, context);
    case Operator.Unknown:
      return false;
    case Operator.NotContains:
      return context.kind === ValueKind.Str && !context.value.includes(condition.notContainsOperand);
    case Operator.Regex:
      return (
        context.kind !== ValueKind.None &&
        condition.regex !== null &&
        matchesPythonRegex(condition.regex, contextValueToString(context))
      );
    case Operator.Modulo:
      return matchesModulo(condition, context);
    case Operator.Equal:
    case Operator.NotEqual:
    case Operator.GreaterThan:
    case Operator.GreaterThanInclusive:
    case Operator.LessThan:
    case Operator.LessThanInclusive:
    case Operator.Contains:
      return matchesTyped(condition, context);
  }
}
