/**
 * JSON that keeps the written form of numbers the way Python's `json` module does: `5.0` is a
 * float and `5` an int. `JSON.parse` gives `5` for both; here a number written with a fraction
 * or an exponent whose value is integral comes back as a {@link FloatNumber}, and such a value is
 * written back as `5.0`. Every other value is exactly what `JSON.parse` / `JSON.stringify` give.
 */
import { FloatNumber } from './float-number';

/**
 * Where a number written as a float may have an integral value: digits (not after a `.`)
 * followed by a fraction of zeros that ends the token (JSON allows no `.` or digit after it, so
 * the `2.0` of a version `"1.2.0"` is not one), or by an exponent. Text with no match certainly
 * holds none; a match inside a string only costs the slower parse.
 */
const MAY_HOLD_FLOAT = /(?<![.0-9])[0-9]+(?:\.0+(?![0-9.])|(?:\.[0-9]+)?[eE][-+]?[0-9])/;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

class JsonReader {
  private position = 0;

  constructor(private readonly text: string) {}

  document(): unknown {
    const value = this.value();
    this.skipWhitespace();
    if (this.position !== this.text.length) this.fail('Unexpected data after the JSON value');
    return value;
  }

  private fail(message: string): never {
    throw new SyntaxError(`${message} at position ${this.position}`);
  }

  private skipWhitespace(): void {
    WHITESPACE.lastIndex = this.position;
    WHITESPACE.exec(this.text);
    this.position = WHITESPACE.lastIndex;
  }

  private expect(char: string): void {
    if (this.text[this.position] !== char) this.fail(`Expected '${char}'`);
    this.position += 1;
  }

  private value(): unknown {
    this.skipWhitespace();
    const char = this.text[this.position];
    switch (char) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case undefined:
        return this.fail('Unexpected end of JSON input');
      default:
        return this.number();
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.position)) this.fail('Unexpected token');
    this.position += word.length;
    return value;
  }

  private object(): Record<string, unknown> {
    this.expect('{');
    const out: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.text[this.position] === '}') {
      this.position += 1;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      const key = this.string();
      this.skipWhitespace();
      this.expect(':');
      const value = this.value();
      // Defined, not assigned: a "__proto__" key is an own property, as JSON.parse makes it.
      if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      else out[key] = value;
      this.skipWhitespace();
      if (this.text[this.position] === ',') {
        this.position += 1;
        continue;
      }
      this.expect('}');
      return out;
    }
  }

  private array(): unknown[] {
    this.expect('[');
    const out: unknown[] = [];
    this.skipWhitespace();
    if (this.text[this.position] === ']') {
      this.position += 1;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipWhitespace();
      if (this.text[this.position] === ',') {
        this.position += 1;
        continue;
      }
      this.expect(']');
      return out;
    }
  }

  private number(): number | FloatNumber {
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail('Unexpected token');
    this.position = NUMBER.lastIndex;
    const value = Number(match[0]);
    const float = match[1] !== undefined || match[2] !== undefined;
    return float && Number.isInteger(value) ? new FloatNumber(value) : value;
  }

  private string(): string {
    if (this.text[this.position] !== '"') this.fail('Expected a string');
    const start = this.position;
    // Scan to the closing quote, then let JSON.parse decode the literal (escapes, surrogates).
    let at = start + 1;
    let plain = true;
    for (;;) {
      const code = this.text.charCodeAt(at);
      if (Number.isNaN(code)) {
        this.position = at;
        this.fail('Unterminated string');
      }
      if (code === 0x22) break;
      if (code === 0x5c || code < 0x20) plain = false;
      at += code === 0x5c ? 2 : 1;
    }
    this.position = at + 1;
    // Without escapes or control characters the text between the quotes is the string itself.
    return plain ? this.text.slice(start + 1, at) : (JSON.parse(this.text.slice(start, this.position)) as string);
  }
}

/**
 * `JSON.parse`, except that a number written as a float (`5.0`, `1e3`) whose value is integral
 * becomes a {@link FloatNumber}. Text with no such number is handed to `JSON.parse` unchanged
 * (one regular-expression test). Throws `SyntaxError` on invalid JSON.
 */
export function parseJsonKeepingFloats(text: string): unknown {
  if (!MAY_HOLD_FLOAT.test(text)) return JSON.parse(text) as unknown;
  return new JsonReader(text).document();
}

/** Whether `text` may hold a number written as a float with an integral value (cheap; false means it certainly holds none). */
export function mayHoldFloat(text: string): boolean {
  return MAY_HOLD_FLOAT.test(text);
}

/** A number as JSON, written as Python's `json.dumps` writes a float: `5.0`, `-0.0`, `1e+16`. */
export function floatJson(value: number): string {
  if (!Number.isFinite(value)) return 'null';
  if (!Number.isInteger(value)) return String(value);
  if (Object.is(value, -0)) return '-0.0';
  return Math.abs(value) < 1e16 ? value.toFixed(1) : value.toExponential();
}

/** A trait or JSON value as text: a {@link FloatNumber} as `5.0`, anything else as `String()` does. */
export function valueText(value: unknown): string {
  return value instanceof FloatNumber ? floatJson(value.valueOf()) : String(value);
}

/** Equality of JSON scalars where a {@link FloatNumber} equals only another of the same value. */
export function sameScalar(a: unknown, b: unknown): boolean {
  if (a instanceof FloatNumber) return b instanceof FloatNumber && a.valueOf() === b.valueOf();
  return a === b;
}

function write(value: unknown, key: string): string | undefined {
  if (value instanceof FloatNumber) return floatJson(value.valueOf());
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function')
    value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
  if (value instanceof FloatNumber) return floatJson(value.valueOf());
  if (Array.isArray(value)) return `[${value.map((item, index) => write(item, String(index)) ?? 'null').join(',')}]`;
  if (typeof value === 'object' && value !== null && !(value instanceof Number) && !(value instanceof String) && !(value instanceof Boolean)) {
    const parts: string[] = [];
    for (const [name, item] of Object.entries(value)) {
      const text = write(item, name);
      if (text !== undefined) parts.push(`${JSON.stringify(name)}:${text}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * `JSON.stringify` (no replacer, no indentation), except that a {@link FloatNumber} is written as
 * a float (`5.0`). Values holding none are written by `JSON.stringify` itself.
 */
export function stringifyJsonKeepingFloats(value: unknown): string {
  let floats = false;
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof FloatNumber) floats = true;
    return item;
  });
  return floats ? (write(value, '') as string) : text;
}
