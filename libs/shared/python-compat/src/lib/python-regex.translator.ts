/**
 * Translates a Python `re` pattern into an equivalent JS RegExp so a REGEX condition behaves like
 * Python's `re.match(pattern, text)`: anchored at the start only, `\d` / `\w` / `\s` / `\b` with
 * their Unicode meanings, `.` excluding only `\n`, `$` also matching before a final `\n`,
 * `(?P<name>…)` / `(?P=name)` groups, `{,n}` quantifiers, inline flags (`(?i)`, `(?s)`, `(?x)`,
 * `(?m)`, `(?a)`), octal and `\x` / `\u` / `\U` escapes.
 *
 * Atomic groups and possessive quantifiers are emulated with a capturing lookahead and a
 * backreference. Capturing groups are emitted as named groups (`$g1`, … — names Python cannot
 * produce) so these hidden groups never shift the numbering of backreferences.
 *
 * Returns `null` when Python would reject the pattern, or when it uses something JS cannot express
 * here (conditionals, `\N{…}`, case-insensitivity scoped to a group): such a condition never
 * matches.
 */

interface Flags {
  ignoreCase: boolean;
  multiline: boolean;
  dotAll: boolean;
  verbose: boolean;
  ascii: boolean;
}

class PatternError extends Error {}

const PY_SPACE_ITEMS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const ASCII_SPACE_ITEMS = ' \\t\\n\\r\\f\\v';
const UNICODE_WORD_ITEMS = '\\p{L}\\p{N}_';
const ASCII_WORD_ITEMS = 'a-zA-Z0-9_';
const VERBOSE_WHITESPACE = new Set([' ', '\t', '\n', '\r', '\v', '\f']);
const OCTAL = /[0-7]/;
const ANY_CHAR = '[\\s\\S]';
/**
 * Under IGNORECASE (Unicode), Python holds i, I, İ (its lowercase is i) and ı (an equivalence sre
 * adds) for one letter; JS's case folding leaves İ and ı apart.
 */
const PY_DOTTED_I = [0x69, 0x49, 0x130, 0x131];
const DIGIT = /[0-9]/;
const HEX = /^[0-9a-fA-F]+$/;
const ASCII_LETTER = /[a-zA-Z]/;
const IDENTIFIER = /^[\p{ID_Start}_][\p{ID_Continue}]*$/u;
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };
const FLAG_LETTERS = 'aiLmsux';

/** A class item: either a single code point (which may take part in a range) or a set escape. */
type ClassItem = { readonly kind: 'char'; readonly codePoint: number } | { readonly kind: 'set'; readonly source: string };

function literal(codePoint: number): string {
  return /[a-zA-Z0-9]/.test(String.fromCodePoint(codePoint))
    ? String.fromCodePoint(codePoint)
    : `\\u{${codePoint.toString(16)}}`;
}

class Translator {
  private position = 0;
  private flags: Flags;
  private groupCount = 0;
  private readonly closedGroups = new Set<number>();
  private readonly namedGroups = new Map<string, number>();
  private readonly groupNames: string[] = [];
  private atomicCount = 0;
  private readonly groupStack: Array<{ close: string; flags: Flags; number: number | null; outStart: number }> = [];
  /** Where the last quantifiable item starts in `out`, for possessive quantifiers. */
  private atomStart = 0;
  /** Whether the last emitted item may take a quantifier, and whether it already has one. */
  private canRepeat = false;
  private justRepeated = false;
  private out = '';

  constructor(private readonly source: string) {
    this.flags = { ignoreCase: false, multiline: false, dotAll: false, verbose: false, ascii: false };
  }

  translate(): RegExp {
    this.readGlobalFlags();
    const globalIgnoreCase = this.flags.ignoreCase;
    while (this.position < this.source.length) this.step();
    if (this.groupStack.length > 0) throw new PatternError('missing )');
    return new RegExp(this.out, `v${globalIgnoreCase ? 'i' : ''}y`);
  }

  /** Global flags such as `(?i)` are only allowed at the start of the pattern. */
  private readGlobalFlags(): void {
    for (;;) {
      const match = /^\(\?([aiLmsux]+)\)/.exec(this.source.slice(this.position));
      if (!match) return;
      this.applyFlags(match[1] ?? '', true);
      this.position += match[0].length;
    }
  }

  private applyFlags(letters: string, enable: boolean): void {
    for (const letter of letters) {
      switch (letter) {
        case 'i':
          this.flags.ignoreCase = enable;
          break;
        case 'm':
          this.flags.multiline = enable;
          break;
        case 's':
          this.flags.dotAll = enable;
          break;
        case 'x':
          this.flags.verbose = enable;
          break;
        case 'a':
          this.flags.ascii = enable;
          break;
        case 'u':
          break;
        default:
          throw new PatternError('bad inline flag');
      }
    }
  }

  private peek(offset = 0): string | undefined {
    const codePoint = this.source.codePointAt(this.position + offset);
    return codePoint === undefined ? undefined : String.fromCodePoint(codePoint);
  }

  private next(): string {
    const char = this.peek();
    if (char === undefined) throw new PatternError('unexpected end of pattern');
    this.position += char.length;
    return char;
  }

  private emitAtom(text: string, start = this.out.length): void {
    this.atomStart = start;
    this.out += text;
    this.canRepeat = true;
    this.justRepeated = false;
  }

  private emitAssertion(text: string): void {
    this.out += text;
    this.canRepeat = false;
    this.justRepeated = false;
  }

  private step(): void {
    const char = this.next();
    if (this.flags.verbose) {
      if (VERBOSE_WHITESPACE.has(char)) return;
      if (char === '#') {
        while (this.position < this.source.length && this.next() !== '\n');
        return;
      }
    }
    switch (char) {
      case '\\':
        this.translateEscape();
        return;
      case '[':
        this.emitAtom(this.translateClass());
        return;
      case '(':
        this.openGroup();
        return;
      case ')':
        this.closeGroup();
        return;
      case '|':
        this.out += '|';
        this.canRepeat = false;
        this.justRepeated = false;
        return;
      case '.':
        // `[\s\S]` rather than `[^]`: Node 20's V8 matches /[^]{2}/v against a single character.
        this.emitAtom(this.flags.dotAll ? ANY_CHAR : '[^\\n]');
        return;
      case '^':
        this.emitAssertion(this.flags.multiline ? '(?<![^\\n])' : `(?<!${ANY_CHAR})`);
        return;
      case '$':
        this.emitAssertion(this.flags.multiline ? `(?=\\n|(?!${ANY_CHAR}))` : `(?=\\n?(?!${ANY_CHAR}))`);
        return;
      case '*':
      case '+':
      case '?':
        this.quantify(char);
        return;
      case '{':
        this.translateBrace();
        return;
      default:
        this.emitLiteral(char.codePointAt(0) ?? 0);
    }
  }

  /** Whether IGNORECASE applies with Python's Unicode case rules. */
  private get unicodeIgnoreCase(): boolean {
    return this.flags.ignoreCase && !this.flags.ascii;
  }

  /** A literal character outside a class. */
  private emitLiteral(codePoint: number): void {
    if (this.unicodeIgnoreCase && PY_DOTTED_I.includes(codePoint)) this.emitAtom(`[${PY_DOTTED_I.map(literal).join('')}]`);
    else this.emitAtom(literal(codePoint));
  }

  private quantify(quantifier: string): void {
    if (this.justRepeated) throw new PatternError('multiple repeat');
    if (!this.canRepeat) throw new PatternError('nothing to repeat');
    let text = quantifier;
    if (this.peek() === '?') {
      this.position += 1;
      text += '?';
    } else if (this.peek() === '+') {
      this.position += 1;
      const name = this.atomicGroupName();
      const atom = this.out.slice(this.atomStart);
      this.out = `${this.out.slice(0, this.atomStart)}(?=(?<${name}>${atom}${text}))\\k<${name}>`;
      this.justRepeated = true;
      return;
    }
    this.out += text;
    this.justRepeated = true;
  }

  /** `{m,n}`, `{m,}`, `{,n}`, `{m}` are quantifiers; any other `{` is a literal brace. */
  private translateBrace(): void {
    const match = /^([0-9]*)(?:(,)([0-9]*))?\}/.exec(this.source.slice(this.position));
    if (!match || match[0] === '}') {
      this.emitAtom(literal(0x7b));
      return;
    }
    const min = match[1] === '' ? '0' : (match[1] ?? '0');
    const max = match[2] === undefined ? min : (match[3] ?? '');
    if (max !== '' && Number(max) < Number(min)) throw new PatternError('min repeat greater than max repeat');
    this.position += match[0].length;
    this.quantify(`{${min}${match[2] === undefined ? '' : ','}${match[2] === undefined ? '' : max}}`);
  }

  private atomicGroupName(): string {
    this.atomicCount += 1;
    return `$a${this.atomicCount}`;
  }

  private openCapturingGroup(name: string | null): void {
    this.groupCount += 1;
    const jsName = name ?? `$g${this.groupCount}`;
    this.groupNames[this.groupCount] = jsName;
    this.pushGroup(`(?<${jsName}>`, ')', this.groupCount);
  }

  private openGroup(): void {
    if (this.peek() !== '?') return this.openCapturingGroup(null);
    this.position += 1;
    const kind = this.next();
    if (kind === ':') return this.pushGroup('(?:', ')', null);
    if (kind === '=' || kind === '!') return this.pushGroup(`(?:(?${kind}`, '))', null);
    if (kind === '#') {
      while (this.next() !== ')');
      return;
    }
    if (kind === '<') {
      const direction = this.next();
      if (direction !== '=' && direction !== '!') throw new PatternError('unknown extension ?<');
      return this.pushGroup(`(?:(?<${direction}`, '))', null);
    }
    if (kind === 'P') return this.translateNamedConstruct();
    if (kind === '>') {
      // Wrapped, so that a quantifier after the group repeats the lookahead and the backreference
      // together rather than the backreference alone.
      const name = this.atomicGroupName();
      return this.pushGroup(`(?:(?=(?<${name}>`, `))\\k<${name}>)`, null);
    }
    if (FLAG_LETTERS.includes(kind) || kind === '-') return this.translateScopedFlags(kind);
    throw new PatternError(`unsupported extension ?${kind}`);
  }

  private pushGroup(open: string, close: string, number: number | null): void {
    this.groupStack.push({ close, flags: { ...this.flags }, number, outStart: this.out.length });
    this.out += open;
    this.canRepeat = false;
    this.justRepeated = false;
  }

  private translateNamedConstruct(): void {
    const kind = this.next();
    const terminator = kind === '<' ? '>' : kind === '=' ? ')' : undefined;
    if (terminator === undefined) throw new PatternError('unknown extension ?P');
    const end = this.source.indexOf(terminator, this.position);
    if (end < 0) throw new PatternError('missing group name terminator');
    const name = this.source.slice(this.position, end);
    this.position = end + 1;
    if (!IDENTIFIER.test(name)) throw new PatternError('bad character in group name');
    if (kind === '<') {
      if (this.namedGroups.has(name)) throw new PatternError('redefinition of group name');
      this.namedGroups.set(name, this.groupCount + 1);
      this.openCapturingGroup(name);
      return;
    }
    const number = this.namedGroups.get(name);
    if (number === undefined || !this.closedGroups.has(number)) throw new PatternError('unknown group name');
    this.emitAtom(`\\k<${name}>`);
  }

  /** `(?flags-flags:...)`; case-insensitivity scoped to a group has no JS equivalent in Node 20. */
  private translateScopedFlags(first: string): void {
    let enable = '';
    let disable = '';
    let char = first;
    while (FLAG_LETTERS.includes(char)) {
      enable += char;
      char = this.next();
    }
    if (char === '-') {
      char = this.next();
      while ('imsx'.includes(char)) {
        disable += char;
        char = this.next();
      }
      if (disable === '') throw new PatternError('missing flag');
    }
    if (char !== ':') throw new PatternError('global flags not at the start of the expression');
    if (/[Lu]/.test(enable)) throw new PatternError('bad inline flag');
    const saved = { ...this.flags };
    this.applyFlags(enable, true);
    this.applyFlags(disable, false);
    const open = this.flags.ignoreCase === saved.ignoreCase ? '(?:' : this.flags.ignoreCase ? '(?i:' : '(?-i:';
    this.groupStack.push({ close: ')', flags: saved, number: null, outStart: this.out.length });
    this.out += open;
    this.canRepeat = false;
    this.justRepeated = false;
  }

  private closeGroup(): void {
    const group = this.groupStack.pop();
    if (!group) throw new PatternError('unbalanced parenthesis');
    this.flags = group.flags;
    if (group.number !== null) this.closedGroups.add(group.number);
    this.emitAtom(group.close, group.outStart);
  }

  private translateEscape(): void {
    const char = this.next();
    switch (char) {
      case 'A':
        return this.emitAssertion(`(?<!${ANY_CHAR})`);
      case 'Z':
        return this.emitAssertion(`(?!${ANY_CHAR})`);
      case 'b':
        return this.emitAssertion(this.wordBoundary(true));
      case 'B':
        return this.emitAssertion(this.wordBoundary(false));
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
        return this.emitAtom(this.categoryOutsideClass(char));
      default:
    }
    if (DIGIT.test(char)) return this.translateNumericEscape(char);
    this.emitLiteral(this.characterEscape(char));
  }

  private wordBoundary(boundary: boolean): string {
    const word = `[${this.flags.ascii ? ASCII_WORD_ITEMS : UNICODE_WORD_ITEMS}]`;
    return boundary
      ? `(?:(?<=${word})(?!${word})|(?<!${word})(?=${word}))`
      : // Python's \B never matches in an empty string.
        `(?:(?<=${word})(?=${word})|(?<!${word})(?!${word})(?:(?<=${ANY_CHAR})|(?=${ANY_CHAR})))`;
  }

  private categoryItems(letter: string): string {
    switch (letter.toLowerCase()) {
      case 'd':
        return this.flags.ascii ? '0-9' : '\\p{Nd}';
      case 's':
        return this.flags.ascii ? ASCII_SPACE_ITEMS : PY_SPACE_ITEMS;
      default:
        return this.flags.ascii ? ASCII_WORD_ITEMS : UNICODE_WORD_ITEMS;
    }
  }

  private categoryOutsideClass(letter: string): string {
    const negated = letter === letter.toUpperCase();
    return `[${negated ? '^' : ''}${this.categoryItems(letter)}]`;
  }

  /** `\1`..`\99` are group references; `\0` and three octal digits are octal escapes. */
  private translateNumericEscape(first: string): void {
    if (first === '0') {
      let digits = '0';
      while (digits.length < 3 && OCTAL.test(this.peek() ?? '')) digits += this.next();
      return this.emitLiteral(parseInt(digits, 8));
    }
    let digits = first;
    if (DIGIT.test(this.peek() ?? '')) {
      digits += this.next();
      if (OCTAL.test(digits[0] ?? '') && OCTAL.test(digits[1] ?? '') && OCTAL.test(this.peek() ?? '')) {
        digits += this.next();
        const value = parseInt(digits, 8);
        if (value > 0o377) throw new PatternError('octal escape value outside of range');
        return this.emitLiteral(value);
      }
    }
    const group = Number(digits);
    if (group > this.groupCount) throw new PatternError('invalid group reference');
    if (!this.closedGroups.has(group)) throw new PatternError('cannot refer to an open group');
    this.emitAtom(`\\k<${this.groupNames[group] ?? ''}>`);
  }

  /** A single-character escape: control letters, hex / unicode escapes, or an escaped literal. */
  private characterEscape(char: string): number {
    const simple = SIMPLE_ESCAPES[char];
    if (simple !== undefined) return simple;
    const hexLength = char === 'x' ? 2 : char === 'u' ? 4 : char === 'U' ? 8 : 0;
    if (hexLength > 0) {
      const hex = this.source.slice(this.position, this.position + hexLength);
      if (hex.length !== hexLength || !HEX.test(hex)) throw new PatternError(`incomplete escape \\${char}`);
      this.position += hexLength;
      const codePoint = parseInt(hex, 16);
      if (codePoint > 0x10ffff) throw new PatternError('bad escape');
      return codePoint;
    }
    if (ASCII_LETTER.test(char)) throw new PatternError(`bad escape \\${char}`);
    return char.codePointAt(0) ?? 0;
  }

  private translateClass(): string {
    const negate = this.peek() === '^';
    if (negate) this.position += 1;
    const items: string[] = [];
    /** Whether a character or range of the class covers one of {@link PY_DOTTED_I}. */
    let coversDottedI = false;
    const covers = (from: number, to: number): boolean => PY_DOTTED_I.some((codePoint) => from <= codePoint && codePoint <= to);
    let first = true;
    for (;;) {
      const char = this.peek();
      if (char === undefined) throw new PatternError('unterminated character set');
      if (char === ']' && !first) {
        this.position += 1;
        break;
      }
      first = false;
      const start = this.classItem();
      if (this.peek() === '-') {
        this.position += 1;
        if (this.peek() === undefined) throw new PatternError('unterminated character set');
        if (this.peek() === ']') {
          items.push(this.renderClassItem(start), literal(0x2d));
          if (start.kind === 'char' && covers(start.codePoint, start.codePoint)) coversDottedI = true;
          this.position += 1;
          break;
        }
        const end = this.classItem();
        if (start.kind !== 'char' || end.kind !== 'char') throw new PatternError('bad character range');
        if (end.codePoint < start.codePoint) throw new PatternError('bad character range');
        items.push(`${literal(start.codePoint)}-${literal(end.codePoint)}`);
        if (covers(start.codePoint, end.codePoint)) coversDottedI = true;
      } else {
        items.push(this.renderClassItem(start));
        if (start.kind === 'char' && covers(start.codePoint, start.codePoint)) coversDottedI = true;
      }
    }
    if (coversDottedI && this.unicodeIgnoreCase) items.push(...PY_DOTTED_I.map(literal));
    return `[${negate ? '^' : ''}${items.join('')}]`;
  }

  private renderClassItem(item: ClassItem): string {
    return item.kind === 'char' ? literal(item.codePoint) : item.source;
  }

  private classItem(): ClassItem {
    const char = this.next();
    if (char !== '\\') return { kind: 'char', codePoint: char.codePointAt(0) ?? 0 };
    const escape = this.next();
    if ('dswDSW'.includes(escape)) {
      const items = this.categoryItems(escape);
      return { kind: 'set', source: escape === escape.toUpperCase() ? `[^${items}]` : `[${items}]` };
    }
    if (escape === 'b') return { kind: 'char', codePoint: 8 };
    if (OCTAL.test(escape)) {
      let digits = escape;
      while (digits.length < 3 && OCTAL.test(this.peek() ?? '')) digits += this.next();
      const value = parseInt(digits, 8);
      if (value > 0o377) throw new PatternError('octal escape value outside of range');
      return { kind: 'char', codePoint: value };
    }
    if (DIGIT.test(escape)) throw new PatternError('bad escape');
    return { kind: 'char', codePoint: this.characterEscape(escape) };
  }
}

/**
 * Compiles a Python `re` pattern for `re.match` semantics. Use with `matchesPythonRegex`, which
 * resets the sticky position so the match is anchored at index 0.
 */
export function compilePythonRegex(pattern: string): RegExp | null {
  try {
    return new Translator(pattern).translate();
  } catch {
    return null;
  }
}

/** Python `re.match(pattern, text) is not None` for a pattern from {@link compilePythonRegex}. */
export function matchesPythonRegex(regex: RegExp, text: string): boolean {
  regex.lastIndex = 0;
  return regex.test(text);
}
