/**
 * `json.loads` as Python runs it on an IN condition value, reduced to what the IN operator needs:
 * the `str()` of every element of a top-level array.
 *
 * Parsing is done here rather than with `JSON.parse` because Python keeps `1` and `1.0` apart
 * (`str()` gives `1` and `1.0`), keeps big integers exact, and accepts `NaN` / `Infinity`.
 */
import { pyFloatRepr, pyIntFromDigits, pyIntToString } from './python-number';
import { pyStringRepr } from './python-string';

const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

class PyJsonSyntaxError extends Error {}

/** A parsed value as Python would print it: `str` for the value itself, `repr` when nested. */
interface Printed {
  readonly str: string;
  readonly repr: string;
}

class Parser {
  private position = 0;

  constructor(private readonly text: string) {}

  parseDocument(): Printed[] | undefined {
    this.skipWhitespace();
    if (this.text[this.position] !== '[') {
      this.parseValue();
      this.finish();
      return undefined;
    }
    const items = this.parseArrayItems();
    this.finish();
    return items;
  }

  private finish(): void {
    this.skipWhitespace();
    if (this.position !== this.text.length) throw new PyJsonSyntaxError('extra data');
  }

  private skipWhitespace(): void {
    WHITESPACE.lastIndex = this.position;
    WHITESPACE.exec(this.text);
    this.position = WHITESPACE.lastIndex;
  }

  private expect(char: string): void {
    if (this.text[this.position] !== char) throw new PyJsonSyntaxError(`expected ${char}`);
    this.position += 1;
  }

  private parseArrayItems(): Printed[] {
    this.expect('[');
    const items: Printed[] = [];
    this.skipWhitespace();
    if (this.text[this.position] === ']') {
      this.position += 1;
      return items;
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.parseValue());
      this.skipWhitespace();
      if (this.text[this.position] === ',') {
        this.position += 1;
        continue;
      }
      this.expect(']');
      return items;
    }
  }

  private parseObject(): Printed {
    this.expect('{');
    // Python dicts keep the first position of a repeated key and its last value.
    const entries = new Map<string, string>();
    this.skipWhitespace();
    if (this.text[this.position] === '}') {
      this.position += 1;
    } else {
      for (;;) {
        this.skipWhitespace();
        const key = this.parseString();
        this.skipWhitespace();
        this.expect(':');
        this.skipWhitespace();
        entries.set(key, this.parseValue().repr);
        this.skipWhitespace();
        if (this.text[this.position] === ',') {
          this.position += 1;
          continue;
        }
        this.expect('}');
        break;
      }
    }
    const body = [...entries].map(([key, repr]) => `${pyStringRepr(key)}: ${repr}`).join(', ');
    return { str: `{${body}}`, repr: `{${body}}` };
  }

  private parseValue(): Printed {
    const char = this.text[this.position];
    if (char === '"') {
      const value = this.parseString();
      return { str: value, repr: pyStringRepr(value) };
    }
    if (char === '[') {
      const repr = `[${this.parseArrayItems()
        .map((item) => item.repr)
        .join(', ')}]`;
      return { str: repr, repr };
    }
    if (char === '{') return this.parseObject();
    for (const [literal, printed] of LITERALS) {
      if (this.text.startsWith(literal, this.position)) {
        this.position += literal.length;
        return { str: printed, repr: printed };
      }
    }
    return this.parseNumber();
  }

  private parseNumber(): Printed {
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (!match) throw new PyJsonSyntaxError('expecting value');
    this.position = NUMBER.lastIndex;
    const lexeme = match[0];
    const printed =
      match[1] === undefined && match[2] === undefined
        ? pyIntToString(pyIntFromDigits(lexeme.startsWith('-'), lexeme.replace('-', '')))
        : pyFloatRepr(Number(lexeme));
    return { str: printed, repr: printed };
  }

  private parseString(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      const code = this.text.charCodeAt(this.position);
      if (Number.isNaN(code)) throw new PyJsonSyntaxError('unterminated string');
      this.position += 1;
      if (code === 0x22) return out;
      if (code < 0x20) throw new PyJsonSyntaxError('invalid control character');
      if (code !== 0x5c) {
        out += String.fromCharCode(code);
        continue;
      }
      const escape = this.text[this.position];
      this.position += 1;
      const simple = escape === undefined ? undefined : SIMPLE_ESCAPES[escape];
      if (simple !== undefined) {
        out += simple;
      } else if (escape === 'u') {
        const hex = this.text.slice(this.position, this.position + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PyJsonSyntaxError('invalid \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.position += 4;
      } else {
        throw new PyJsonSyntaxError('invalid escape');
      }
    }
  }
}

const LITERALS: ReadonlyArray<readonly [string, string]> = [
  ['true', 'True'],
  ['false', 'False'],
  ['null', 'None'],
  ['NaN', 'nan'],
  ['Infinity', 'inf'],
  ['-Infinity', '-inf'],
];

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * Python `[str(v) for v in json.loads(text)]` when `text` is a JSON array; `undefined` when it is
 * not valid JSON or not an array (Python then falls back to splitting on commas).
 */
export function parsePyJsonArrayAsStrings(text: string): string[] | undefined {
  try {
    return new Parser(text).parseDocument()?.map((item) => item.str);
  } catch (error) {
    if (error instanceof PyJsonSyntaxError || error instanceof RangeError) return undefined;
    throw error;
  }
}
