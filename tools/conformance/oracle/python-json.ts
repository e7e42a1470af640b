/**
 * The two JSON conversions the oracle needs between our engine's JS values and the reference
 * engine's Python values:
 *
 * - {@link toPythonJson} writes a context as the JSON text Python reads into the same types our
 *   engine reads from the JS value: a {@link FloatNumber} is written in float form (`5.0`), an
 *   integral JS number (or a bigint) as an int, non-finite numbers as Python's `Infinity` /
 *   `-Infinity` / `NaN` literals, and the `segments` / `features` maps in the given order (JS
 *   enumerates integer-like keys in numeric order, not in the order they were written).
 * - {@link tagFloats} gives a result of our engine the shape `reference_engine.py` writes its
 *   results in: floats that JSON cannot tell from ints (integral or non-finite) become
 *   `{"$float": …}`, so a float `5.0` never compares equal to an int `5`.
 */
import type { EvaluationOrder } from '@flagline/evaluation-engine';

const FLOAT_TAG = '$float';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Number);
}

function nonFiniteLiteral(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

function writeNumber(value: number, isFloat: boolean): string {
  if (!Number.isFinite(value)) return nonFiniteLiteral(value);
  if (isFloat) {
    const text = JSON.stringify(value);
    return /[.eE]/.test(text) ? text : `${text}.0`;
  }
  // An integral JS number is an int to our engine; beyond 2^53 `JSON.stringify` would write an
  // exponent (`1e+21`), which Python reads as a float.
  return Number.isInteger(value) ? BigInt(value).toString() : JSON.stringify(value);
}

function orderedKeys(record: Record<string, unknown>, order: readonly string[] | undefined): string[] {
  const own = Object.keys(record);
  if (order === undefined) return own;
  const listed = order.filter((key, index) => own.includes(key) && order.indexOf(key) === index);
  return [...listed, ...own.filter((key) => !listed.includes(key))];
}

/**
 * Writes `value`; `keys` is the order of its own keys when it is an object, and `childKeys` the
 * order of each member's keys (only the top level of a context needs one).
 */
function write(value: unknown, keys?: readonly string[], childKeys?: (key: string) => readonly string[] | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Number) return writeNumber(value.valueOf(), true);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return writeNumber(value, false);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map((item: unknown) => write(item)).join(',')}]`;
  if (!isPlainObject(value)) throw new TypeError(`cannot write a ${typeof value} as JSON`);
  const members: string[] = [];
  for (const key of orderedKeys(value, keys)) {
    const member = value[key];
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${write(member, childKeys?.(key))}`);
  }
  return `{${members.join(',')}}`;
}

/** Python-readable JSON text of `value` on one line; `order` applies to a top-level context's maps. */
export function toPythonJson(value: unknown, order?: EvaluationOrder): string {
  return write(value, undefined, (key) => (key === 'segments' ? order?.segments : key === 'features' ? order?.features : undefined));
}

/** `value` with integral or non-finite floats tagged as `reference_engine.py` tags them. */
export function tagFloats(value: unknown): unknown {
  if (value instanceof Number || typeof value === 'number') {
    const number = value.valueOf();
    if (Number.isNaN(number)) return { [FLOAT_TAG]: 'nan' };
    if (!Number.isFinite(number)) return { [FLOAT_TAG]: number > 0 ? 'inf' : '-inf' };
    return value instanceof Number && Number.isInteger(number) ? { [FLOAT_TAG]: number } : number;
  }
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(tagFloats);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, tagFloats(item)]));
  return value;
}
