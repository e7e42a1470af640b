/**
 * A 53-bit hash of a text (cyrb53: two 32-bit multiply-xorshift lanes), for SQLite indexes kept
 * small: an index of these integers stays in a bounded page cache far longer than one of the
 * texts themselves (64-digit identity ids, 73-character stream names), which writes extend at
 * random places. Texts that share a key are told apart by the text, stored beside it.
 * (Not a cryptographic hash: about 0.2 µs for a stream name, where SHA-256 costs several.)
 */
export function indexKeyOf(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (h2 & 0x1fffff) + (h1 >>> 0);
}
