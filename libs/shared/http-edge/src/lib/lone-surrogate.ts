const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LOWER_U = 0x75;

/** The value of four hexadecimal digits at `index`, or -1. */
function hex4(code: (index: number) => number, length: number, index: number): number {
  if (index + 4 > length) return -1;
  let value = 0;
  for (let offset = 0; offset < 4; offset++) {
    const c = code(index + offset);
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/**
 * Whether JSON text holds a `\uD800`–`\uDFFF` escape that is not half of a surrogate pair: such a
 * string is no Unicode text, cannot be written as UTF-8, and strict JSON readers (jq, Python's
 * UTF-8 output, most SDK languages) fail on any answer that echoes it. Raw UTF-8 cannot carry a
 * surrogate (the decoder turns one into U+FFFD), so only escapes are checked: one pass, and
 * none at all for text without `\u`.
 */
export function jsonHasLoneSurrogate(json: string | Uint8Array): boolean {
  if (typeof json === 'string' ? !json.includes('\\u') : Buffer.from(json.buffer, json.byteOffset, json.byteLength).indexOf('\\u') === -1) return false;
  const code = typeof json === 'string' ? (index: number) => json.charCodeAt(index) : (index: number) => json[index] as number;
  const length = json.length;
  let inString = false;
  for (let index = 0; index < length; index++) {
    const c = code(index);
    if (!inString) {
      if (c === QUOTE) inString = true;
      continue;
    }
    if (c === QUOTE) inString = false;
    else if (c === BACKSLASH) {
      if (code(index + 1) !== LOWER_U) {
        index++;
        continue;
      }
      const unit = hex4(code, length, index + 2);
      index += 5;
      if (unit >= 0xdc00 && unit <= 0xdfff) return true;
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const next = code(index + 1) === BACKSLASH && code(index + 2) === LOWER_U ? hex4(code, length, index + 3) : -1;
        if (next < 0xdc00 || next > 0xdfff) return true;
        index += 6;
      }
    }
  }
  return false;
}
