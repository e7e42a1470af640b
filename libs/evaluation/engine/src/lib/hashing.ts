import { md5 } from 'js-md5';

/**
 * Flagsmith's bucketing hash: the ids joined with `,` (the whole list repeated `iterations`
 * times), MD5 of the UTF-8 text read as a 128-bit unsigned integer `h`, and
 * `(h mod 9999) / 9998 * 100`, a percentage in [0, 100]. Exactly 100 is excluded by hashing again
 * with one more repetition of the list.
 *
 * `h mod 9999` is computed exactly from the four 32-bit words of the digest (each step stays
 * below 2^53), so no BigInt is needed on the hot path. MD5 comes from `js-md5`: for the short
 * texts hashed here it is several times faster than a `node:crypto` call, whose fixed cost per
 * call dominates (same digests, UTF-8 input; checked by the specs).
 *
 * @param ids - the Python `str()` forms of the ids, e.g. `[featureKey, identityKey]`.
 * @returns the percentage in [0, 100).
 */
export function hashedPercentageForIds(ids: readonly string[]): number {
  const joined = ids.join(',');
  let text = joined;
  for (;;) {
    const percentage = percentageOf(text);
    if (percentage !== 100) return percentage;
    text = `${text},${joined}`;
  }
}

/**
 * {@link hashedPercentageForIds} for the two-id case used by segment splits and multivariate
 * bucketing, without allocating the list.
 */
export function hashedPercentageForPair(first: string, second: string): number {
  const joined = `${first},${second}`;
  const percentage = percentageOf(joined);
  return percentage === 100 ? hashedPercentageForIds([first, second]) : percentage;
}

/** MD5's per-step shift amounts and sine-derived constants (RFC 1321). */
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const SINES = Int32Array.from({ length: 64 }, (_, index) => Math.floor(Math.abs(Math.sin(index + 1)) * 0x100000000) | 0);
/** The one 64-byte block of a short text, reused by every call (hashing is synchronous). */
const block = new Int32Array(16);

/**
 * `(h mod 9999)` of the MD5 of a text of at most 55 characters, all ASCII, so its UTF-8 bytes
 * are its characters and, padded, it fills one block: no array of bytes, no digest array and
 * no hasher object per call, where a general MD5 makes them all (the ids hashed here are short:
 * a feature state's id or UUID and an identity's key). `-1` for any other text.
 */
function shortAsciiRemainder(text: string): number {
  const length = text.length;
  if (length > 55) return -1;
  block.fill(0);
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code > 0x7f) return -1;
    block[index >> 2] = (block[index >> 2] as number) | (code << ((index & 3) << 3));
  }
  block[length >> 2] = (block[length >> 2] as number) | (0x80 << ((length & 3) << 3));
  block[14] = length << 3;
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;
  for (let step = 0; step < 64; step++) {
    let f: number;
    let word: number;
    if (step < 16) {
      f = (b & c) | (~b & d);
      word = step;
    } else if (step < 32) {
      f = (d & b) | (~d & c);
      word = (5 * step + 1) & 15;
    } else if (step < 48) {
      f = b ^ c ^ d;
      word = (3 * step + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      word = (7 * step) & 15;
    }
    const sum = (a + f + (SINES[step] as number) + (block[word] as number)) | 0;
    const shift = SHIFTS[((step >> 4) << 2) | (step & 3)] as number;
    a = d;
    d = c;
    c = b;
    b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
  }
  // The digest is the four state words, each little-endian; read as one big-endian integer, each
  // word's bytes are swapped.
  let remainder = 0;
  for (const word of [(a + 0x67452301) | 0, (b + (0xefcdab89 | 0)) | 0, (c + (0x98badcfe | 0)) | 0, (d + 0x10325476) | 0]) {
    const swapped = (((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)) >>> 0;
    remainder = (remainder * 0x100000000 + swapped) % 9999;
  }
  return remainder;
}

function percentageOf(text: string): number {
  const short = shortAsciiRemainder(text);
  if (short >= 0) return (short / 9998) * 100;
  const digest = md5.array(text);
  let remainder = 0;
  for (let offset = 0; offset < 16; offset += 4) {
    const word = (((digest[offset] as number) << 24) | ((digest[offset + 1] as number) << 16) | ((digest[offset + 2] as number) << 8) | (digest[offset + 3] as number)) >>> 0;
    remainder = (remainder * 0x100000000 + word) % 9999;
  }
  return (remainder / 9998) * 100;
}
