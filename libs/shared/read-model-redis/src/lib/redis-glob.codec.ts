/**
 * Escapes the characters Redis glob patterns (SCAN MATCH, KEYS) interpret, so `text` matches
 * only itself: `identity:7:b*[o]?b` must not also match `identity:7:bob`.
 */
export function escapeRedisGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}

/** The SCAN MATCH pattern of every key starting with `prefix`, taken literally. */
export function literalPrefixPattern(prefix: string): string {
  return `${escapeRedisGlob(prefix)}*`;
}
