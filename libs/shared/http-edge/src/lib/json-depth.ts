/**
 * The deepest nesting of objects and arrays a JSON request body may have. Real bodies stay far
 * below it (segment rules nest a few levels); code that walks a parsed body recursively (class
 * validation, prototype-key stripping) would exhaust the stack on bodies thousands deep.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether JSON text nests objects and arrays deeper than `max`, read from the raw text before
 * anything parses or walks it: one pass, brackets inside strings ignored. Malformed text is
 * judged on what it holds; the parser rejects it afterwards.
 */
export function jsonDepthExceeds(json: string | Uint8Array, max = MAX_JSON_DEPTH): boolean {
  // Each level takes at least one byte, so a short text cannot be too deep.
  if (json.length <= max) return false;
  // Nor can a text with no more than `max` opening brackets; counting them with indexOf (which
  // the engine runs natively) costs a small part of the scan below on ordinary bodies.
  if (typeof json === 'string' && openingsAtMost(json, max)) return false;
  const code = typeof json === 'string' ? (index: number) => json.charCodeAt(index) : (index: number) => json[index] as number;
  let depth = 0;
  let inString = false;
  for (let index = 0; index < json.length; index++) {
    const c = code(index);
    if (inString) {
      if (c === BACKSLASH) index++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** Whether `json` holds at most `max` `{` and `[` characters, in strings or not. */
function openingsAtMost(json: string, max: number): boolean {
  let count = 0;
  for (const open of OPENINGS) {
    for (let at = json.indexOf(open); at !== -1; at = json.indexOf(open, at + 1)) {
      if (++count > max) return false;
    }
  }
  return true;
}

const OPENINGS = ['{', '['] as const;
