/**
 * Python string semantics: ordering by code point and the `str()` / `repr()` forms of the JSON-like
 * values the engine meets (trait values, condition values, IN list elements).
 */
import { pyFloatRepr, pyIntToString } from './python-number';

/**
 * Three-way comparison by Unicode code point, as Python compares `str`. JS compares UTF-16 code
 * units, which orders astral characters (surrogate pairs) below U+E000..U+FFFF; remapping the
 * first differing unit fixes that without decoding the strings.
 */
export function comparePyStrings(left: string, right: string): number {
  const length = Math.min(left.length, right.length);
  for (let index = 0; index < length; index += 1) {
    let a = left.charCodeAt(index);
    let b = right.charCodeAt(index);
    if (a === b) continue;
    if (a >= 0xd800 && b >= 0xd800) {
      a = a >= 0xe000 ? a - 0x800 : a + 0x2000;
      b = b >= 0xe000 ? b - 0x800 : b + 0x2000;
    }
    return a < b ? -1 : 1;
  }
  return left.length === right.length ? 0 : left.length < right.length ? -1 : 1;
}

/**
 * Python `str()` of a JS number coming from JSON. JSON does not keep `1` and `1.0` apart once
 * parsed, so integral numbers are taken as Python ints and the others as floats.
 */
export function pyNumberToString(value: number): string {
  return Number.isInteger(value) ? pyIntToString(value) : pyFloatRepr(value);
}

/** Python `str()` of a JSON-like value (`None`, `True`, `1.5`, `['a', 1]`, `{'k': 'v'}`). */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

// Characters Python's `str.isprintable()` rejects, which `repr()` escapes.
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function escapeCodePoint(codePoint: number): string {
  if (codePoint < 0x100) return `\\x${codePoint.toString(16).padStart(2, '0')}`;
  if (codePoint < 0x10000) return `\\u${codePoint.toString(16).padStart(4, '0')}`;
  return `\\U${codePoint.toString(16).padStart(8, '0')}`;
}

/** Python `repr(str)`: single quotes unless the text holds `'` and no `"`. */
export function pyStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    if (char === quote || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (char !== ' ' && NON_PRINTABLE.test(char)) out += escapeCodePoint(char.codePointAt(0) ?? 0);
    else out += char;
  }
  return out + quote;
}

/** Python `repr()` of a JSON-like value; dict and list forms as Python prints them. */
export function pyRepr(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return pyStringRepr(value);
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
      return pyNumberToString(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
      return 'None';
    case 'object': {
      if (value === null) return 'None';
      // A boxed number stands for a Python float (see FloatNumber).
      if (value instanceof Number) return pyFloatRepr(value.valueOf());
      if (Array.isArray(value)) return `[${value.map((item) => pyRepr(item)).join(', ')}]`;
      const entries = Object.entries(value).map(([key, item]) => `${pyStringRepr(key)}: ${pyRepr(item)}`);
      return `{${entries.join(', ')}}`;
    }
    case 'function':
    case 'symbol':
      return String(value);
  }
}
