/**
 * Segment conditions compiled once per environment: the operator resolved to a code and every
 * operand cast the condition may need precomputed, so evaluation does no parsing.
 */
import type { CompiledProperty, PropertyTable } from './context-property';
import { isRecord } from './json-shape';
import { pyFloat, pyInt, type PyInt } from './python/python-number';
import { parsePyJsonArrayAsStrings } from './python/python-json.parser';
import { compilePythonRegex } from './python/python-regex.translator';
import { parseSemVer, type SemVer } from './python/python-semver';
import { pyRepr, pyStr } from './python/python-string';

/** Condition operators as codes; `Unknown` never matches. */
export const Operator = {
  Unknown: 0,
  Equal: 1,
  NotEqual: 2,
  GreaterThan: 3,
  GreaterThanInclusive: 4,
  LessThan: 5,
  LessThanInclusive: 6,
  Contains: 7,
  NotContains: 8,
  Regex: 9,
  Modulo: 10,
  In: 11,
  IsSet: 12,
  IsNotSet: 13,
  PercentageSplit: 14,
} as const;

/** One of the {@link Operator} codes. */
export type Operator = (typeof Operator)[keyof typeof Operator];

const OPERATORS_BY_NAME = new Map<unknown, Operator>([
  ['EQUAL', Operator.Equal],
  ['NOT_EQUAL', Operator.NotEqual],
  ['GREATER_THAN', Operator.GreaterThan],
  ['GREATER_THAN_INCLUSIVE', Operator.GreaterThanInclusive],
  ['LESS_THAN', Operator.LessThan],
  ['LESS_THAN_INCLUSIVE', Operator.LessThanInclusive],
  ['CONTAINS', Operator.Contains],
  ['NOT_CONTAINS', Operator.NotContains],
  ['REGEX', Operator.Regex],
  ['MODULO', Operator.Modulo],
  ['IN', Operator.In],
  ['IS_SET', Operator.IsSet],
  ['IS_NOT_SET', Operator.IsNotSet],
  ['PERCENTAGE_SPLIT', Operator.PercentageSplit],
]);

const SEMVER_SUFFIX = ':semver';

/**
 * A compiled condition. The typed comparison operators cast the condition value to the type of the
 * context value at hand (Flagsmith's reference semantics), so each possible cast is precomputed;
 * `undefined` marks a cast that fails in Python, which makes the condition false.
 */
export class CompiledCondition {
  /** Cast for a bool context: false only for `"False"` / `"false"`. */
  readonly boolOperand: boolean;
  /** Python `int(value)` for an int context. */
  readonly intOperand: PyInt | undefined;
  /** Python `float(value)` for a float context. */
  readonly floatOperand: number | undefined;
  /** Python `str(value)` for a string context, when the value is not a `:semver` operand. */
  readonly stringOperand: string | undefined;
  /** Whether the value ends with `:semver` (string contexts then compare as versions). */
  readonly isSemVer: boolean;
  /** The value without its `:semver` suffix. */
  readonly semVerText: string;
  /** `semVerText` parsed; `undefined` when it is not a valid version. */
  readonly semVerOperand: SemVer | undefined;
  /** Python `str(value)`, the needle of NOT_CONTAINS. */
  readonly notContainsOperand: string;
  /** The REGEX pattern; `null` when it does not compile. */
  readonly regex: RegExp | null;
  /** MODULO `divisor|remainder`; `undefined` when malformed. */
  readonly moduloDivisor: number | undefined;
  readonly moduloRemainder: number;
  /** IN values; `null` when the value cannot be read as a list. */
  readonly inValues: ReadonlySet<string> | null;
  /** PERCENTAGE_SPLIT threshold; `undefined` when not a number. */
  readonly splitThreshold: number | undefined;

  constructor(
    readonly operator: Operator,
    /** `null` for a blank property (PERCENTAGE_SPLIT then buckets on the identity key). */
    readonly property: CompiledProperty | null,
    /** The condition's value as written (what explanations report as expected). */
    readonly value: unknown,
    /** The operator as written (an unknown one included); `null` for a malformed condition. */
    readonly operatorText: unknown = null,
  ) {
    const text = typeof value === 'string' ? value : undefined;
    const typed = operator >= Operator.Equal && operator <= Operator.Contains;
    this.boolOperand = !(value === 'False' || value === 'false');
    this.intOperand = typed ? pyInt(value) : undefined;
    this.floatOperand = typed ? pyFloat(value) : undefined;
    this.isSemVer = text !== undefined && text.endsWith(SEMVER_SUFFIX);
    this.semVerText = this.isSemVer && text !== undefined ? text.slice(0, -SEMVER_SUFFIX.length) : '';
    this.semVerOperand = this.isSemVer ? parseSemVer(this.semVerText) : undefined;
    this.stringOperand = this.isSemVer ? undefined : text !== undefined ? text : Array.isArray(value) ? pyRepr(value) : undefined;
    this.notContainsOperand = pyStr(value ?? null);
    this.regex = operator === Operator.Regex ? compilePythonRegex(pyStr(value ?? null)) : null;
    const [divisor, remainder] = operator === Operator.Modulo ? parseModulo(text) : [undefined, Number.NaN];
    this.moduloDivisor = divisor;
    this.moduloRemainder = remainder;
    this.inValues = operator === Operator.In ? parseInValues(value) : null;
    this.splitThreshold = operator === Operator.PercentageSplit ? pyFloat(value) : undefined;
  }
}

function parseModulo(text: string | undefined): [number | undefined, number] {
  const parts = text ? text.split('|') : [];
  if (parts.length !== 2) return [undefined, Number.NaN];
  const divisor = pyFloat(parts[0]);
  const remainder = pyFloat(parts[1]);
  // A zero divisor raises ZeroDivisionError in Python: the condition cannot match.
  if (divisor === undefined || remainder === undefined || divisor === 0) return [undefined, Number.NaN];
  return [divisor, remainder];
}

function parseInValues(value: unknown): ReadonlySet<string> | null {
  if (Array.isArray(value)) return new Set(value.map((item) => pyStr(item)));
  if (typeof value !== 'string') return null;
  const items = value.startsWith('[') ? (parsePyJsonArrayAsStrings(value) ?? value.split(',')) : value.split(',');
  return new Set(items);
}

/** Compiles one condition; a malformed one compiles to a condition that never matches. */
export function compileCondition(raw: unknown, properties: PropertyTable): CompiledCondition {
  if (!isRecord(raw)) return new CompiledCondition(Operator.Unknown, null, null);
  const operator = OPERATORS_BY_NAME.get(raw['operator']) ?? Operator.Unknown;
  const property = raw['property'];
  const blank = property === undefined || property === null || property === '';
  if (!blank && typeof property !== 'string') return new CompiledCondition(Operator.Unknown, null, null, raw['operator']);
  return new CompiledCondition(operator, blank ? null : properties.intern(property), raw['value'], raw['operator']);
}
