/**
 * Python number semantics the reference engine relies on: `int()` / `float()` parsing of strings
 * and the `str()` form of ints and floats.
 *
 * A Python int is represented as a JS number while it is a safe integer and as a bigint beyond,
 * so that `"12345678901234567890"` keeps its exact value as it does in Python.
 */

/** A Python `int`: a safe-integer JS number, or a bigint outside the safe range. */
export type PyInt = number | bigint;

/** Characters Python's `str.isspace()` accepts; `int()` and `float()` strip them. */
export const PYTHON_WHITESPACE_CLASS =
  '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const NEEDS_ASCII_TRANSFORM = /(?![0-9])\p{Nd}|[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const UNICODE_DIGIT = /\p{Nd}/u;
const PY_SPACE = new RegExp(`[${PYTHON_WHITESPACE_CLASS}]`, 'u');
const INT_SYNTAX = /^[ \t\n\v\f\r]*([+-]?)([0-9](?:_?[0-9])*)[ \t\n\v\f\r]*$/;
const FLOAT_SYNTAX =
  /^[ \t\n\v\f\r]*([+-]?(?:(?:[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?|\.[0-9](?:_?[0-9])*)(?:[eE][+-]?[0-9](?:_?[0-9])*)?))[ \t\n\v\f\r]*$/;
const FLOAT_SPECIAL = /^[ \t\n\v\f\r]*([+-]?)(inf|infinity|nan)[ \t\n\v\f\r]*$/i;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Value (0-9) of a Unicode decimal digit. Unicode encodes every `Nd` digit run as ten contiguous
 * code points from zero to nine, so the value is the distance from the start of the run, mod 10.
 */
function unicodeDigitValue(codePoint: number): number {
  let start = codePoint;
  while (start > 0 && UNICODE_DIGIT.test(String.fromCodePoint(start - 1))) start -= 1;
  return (codePoint - start) % 10;
}

/**
 * Python first rewrites Unicode decimal digits to ASCII digits and Unicode spaces to ASCII
 * spaces before parsing numbers (`int("٧")` is 7), so the parsers below only deal with ASCII.
 */
function toAsciiNumberText(text: string): string {
  if (!NEEDS_ASCII_TRANSFORM.test(text)) return text;
  let out = '';
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (PY_SPACE.test(char)) out += ' ';
    else if (codePoint >= 0x80 && UNICODE_DIGIT.test(char)) out += String(unicodeDigitValue(codePoint));
    else out += char;
  }
  return out;
}

/** Converts decimal digits (optionally signed) to a {@link PyInt}. */
export function pyIntFromDigits(negative: boolean, digits: string): PyInt {
  if (digits.length <= 15) {
    const value = Number(digits);
    return negative && value !== 0 ? -value : value;
  }
  const big = BigInt(digits);
  const signed = negative ? -big : big;
  return signed <= MAX_SAFE && signed >= -MAX_SAFE ? Number(signed) : signed;
}

/** Normalizes a {@link PyInt} so that safe integers are always numbers (and never `-0`). */
export function normalizePyInt(value: PyInt): PyInt {
  if (typeof value === 'bigint') {
    return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value;
  }
  return value === 0 ? 0 : value;
}

/**
 * Python `int(value)` for the value types a condition can carry. `undefined` means Python raises
 * (`int("1.0")`, `int("abc")`, `int(None)`), which the engine treats as "no match".
 */
export function pyInt(value: unknown): PyInt | undefined {
  if (typeof value === 'string') {
    const match = INT_SYNTAX.exec(toAsciiNumberText(value));
    if (!match) return undefined;
    return pyIntFromDigits(match[1] === '-', (match[2] ?? '0').replace(/_/g, ''));
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return normalizePyInt(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    const truncated = Math.trunc(value);
    return Number.isSafeInteger(truncated) ? truncated + 0 : normalizePyInt(BigInt(truncated));
  }
  return undefined;
}

/**
 * Python `float(value)`: accepts surrounding whitespace, `_` between digits, exponents, `inf`,
 * `infinity` and `nan` in any case. `undefined` means Python raises.
 */
export function pyFloat(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const text = toAsciiNumberText(value);
    const match = FLOAT_SYNTAX.exec(text);
    if (match) return Number((match[1] ?? '').replace(/_/g, ''));
    const special = FLOAT_SPECIAL.exec(text);
    if (!special) return undefined;
    if ((special[2] ?? '').toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

/** Python `str(int)`: plain decimal digits whatever the magnitude. */
export function pyIntToString(value: PyInt): string {
  if (typeof value === 'bigint') return value.toString();
  return Math.abs(value) < 1e21 ? String(value) : BigInt(value).toString();
}

/**
 * Python `repr(float)` (= `str(float)`): shortest round-trip digits, like JS, but formatted
 * differently: always a `.0` for integral values, exponent form below 1e-4 and from 1e16 on,
 * two-digit exponents with an explicit sign (`1e-05`, `1e+16`), `inf` and `nan`.
 */
export function pyFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const pointPosition = exponent + 1;
  if (pointPosition <= -4 || pointPosition > 16) {
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const absExponent = Math.abs(exponent);
    return `${sign}${head}e${exponent < 0 ? '-' : '+'}${absExponent < 10 ? '0' : ''}${absExponent}`;
  }
  if (pointPosition <= 0) return `${sign}0.${'0'.repeat(-pointPosition)}${digits}`;
  if (pointPosition < digits.length) return `${sign}${digits.slice(0, pointPosition)}.${digits.slice(pointPosition)}`;
  return `${sign}${digits}${'0'.repeat(pointPosition - digits.length)}.0`;
}

/** Exact three-way comparison of two Python ints. */
export function comparePyInts(left: PyInt, right: PyInt): number {
  if (typeof left === 'number' && typeof right === 'number') return left < right ? -1 : left > right ? 1 : 0;
  const a = BigInt(left);
  const b = BigInt(right);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Python's float `%`: the result takes the sign of the divisor (`-1 % 3 == 2`), unlike JS `%`.
 * The caller guarantees a non-zero divisor (Python raises `ZeroDivisionError` otherwise).
 */
export function pyFloatModulo(dividend: number, divisor: number): number {
  let result = dividend % divisor;
  if (result !== 0 && !Number.isNaN(result)) {
    if (divisor < 0 !== result < 0) result += divisor;
  } else if (result === 0) {
    result = divisor < 0 ? -0 : 0;
  }
  return result;
}
