import { md5 } from 'js-md5';

/**
 * Flagsmith's bucketing hash: the ids joined with `,` (the whole list repeated `iterations`
 * times), MD5 of the UTF-8 text read as a 128-bit unsigned integer `h`, and
 * `(h mod 9999) / 9998 * 100`, a percentage in [0, 100]. Exactly 100 is excluded by hashing again
 * with one more repetition of the list.
 *
 * `h mod 9999` is computed exactly from the four 32-bit words of the digest (in small integers,
 * see {@link percentageOfWords}), so no BigInt is needed on the hot path. The texts hashed on every evaluation (a
 * segment's or feature state's key, a comma and an identity key) are short and ASCII: those of up
 * to 55 characters fit one MD5 block and are hashed by {@link pairPercentage} straight from the
 * two strings' characters into one reused block, with no joined string, byte array, digest array
 * or hasher object. Anything else (longer, non-ASCII, repeated lists) goes through `js-md5`, which
 * for short texts is several times faster than a `node:crypto` call, whose fixed cost per call
 * dominates. Both give node:crypto's digests of the UTF-8 text (checked by the specs).
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
  const percentage = LITTLE_ENDIAN && first.length + second.length < MAX_ONE_BLOCK ? pairPercentage(first, second) : percentageOf(`${first},${second}`);
  return percentage === 100 ? hashedPercentageForIds([first, second]) : percentage;
}

/** 2^32 mod 9999: `(r * 2^32 + w) mod 9999` is `(r * 6835 + w mod 9999) mod 9999`, all in small integers. */
const TWO_TO_32_MOD_9999 = 6835;

/**
 * `(h mod 9999) / 9998 * 100` of a digest given as its four words, each read big-endian from the
 * digest's bytes (unsigned). Every step stays below 2^31, so the remainders are integer
 * divisions rather than floating-point ones.
 */
function percentageOfWords(w0: number, w1: number, w2: number, w3: number): number {
  let remainder = w0 % 9999;
  remainder = (remainder * TWO_TO_32_MOD_9999 + (w1 % 9999)) % 9999;
  remainder = (remainder * TWO_TO_32_MOD_9999 + (w2 % 9999)) % 9999;
  remainder = (remainder * TWO_TO_32_MOD_9999 + (w3 % 9999)) % 9999;
  return (remainder / 9998) * 100;
}

function percentageOf(text: string): number {
  const digest = md5.array(text);
  const word = (offset: number): number =>
    (((digest[offset] as number) << 24) | ((digest[offset + 1] as number) << 16) | ((digest[offset + 2] as number) << 8) | (digest[offset + 3] as number)) >>> 0;
  return percentageOfWords(word(0), word(4), word(8), word(12));
}

/** Bytes of a message that fit one MD5 block with its padding (0x80 and the 8-byte length). */
const MAX_ONE_BLOCK = 55;

/** The one block {@link pairPercentage} fills: MD5's sixteen little-endian 32-bit words. */
const block = new Int32Array(16);

/** The same block as bytes: on a little-endian machine, byte `i` is byte `i % 4` of word `i >> 2`, as MD5 reads them. */
const blockBytes = new Uint8Array(block.buffer);

/** Whether the block's bytes lie in its words as MD5 reads them; elsewhere every text goes through `js-md5`. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A word of an MD5 state as the digest's bytes read big-endian (MD5 writes its state little-endian), unsigned. */
function bigEndian(word: number): number {
  return ((word << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)) >>> 0;
}

/**
 * The character codes of the last second id hashed ({@link pairPercentage}). An evaluation hashes
 * one identity key with several feature-state and segment keys: its characters are read from the
 * string once, then copied from here (reading a string built by concatenation character by
 * character walks its representation on every read).
 */
let secondText: string | null = null;
const secondCodes = new Uint8Array(MAX_ONE_BLOCK);
/** The codes OR-ed together: above 0x7f when the text is not ASCII. */
let secondHigh = 0;

/**
 * The percentage of `first,second` when that text is ASCII of at most 55 bytes (the caller checks
 * the length): its bytes are written into one MD5 block and the block is compressed once
 * (RFC 1321). A character past ASCII hands the text to the general path.
 */
function pairPercentage(first: string, second: string): number {
  const secondLength = second.length;
  if (second !== secondText) {
    let high = 0;
    for (let index = 0; index < secondLength; index++) {
      const code = second.charCodeAt(index);
      high |= code;
      secondCodes[index] = code;
    }
    secondText = second;
    secondHigh = high;
  }
  let high = secondHigh;
  // Whole words zeroed, so the bytes after the message's padding are zero.
  for (let index = 0; index < 14; index++) block[index] = 0;
  const firstLength = first.length;
  for (let index = 0; index < firstLength; index++) {
    const code = first.charCodeAt(index);
    high |= code;
    blockBytes[index] = code;
  }
  blockBytes[firstLength] = 0x2c;
  let at = firstLength + 1;
  for (let index = 0; index < secondLength; index++, at++) blockBytes[at] = secondCodes[index] as number;
  if (high > 0x7f) return percentageOf(`${first},${second}`);
  blockBytes[at] = 0x80;
  block[14] = at << 3;
  block[15] = 0;
  return compressOneBlock();
}

/** MD5 of the message in {@link block} (already padded), as its percentage. */
function compressOneBlock(): number {
  const x0 = block[0] as number, x1 = block[1] as number, x2 = block[2] as number, x3 = block[3] as number;
  const x4 = block[4] as number, x5 = block[5] as number, x6 = block[6] as number, x7 = block[7] as number;
  const x8 = block[8] as number, x9 = block[9] as number, x10 = block[10] as number, x11 = block[11] as number;
  const x12 = block[12] as number, x13 = block[13] as number, x14 = block[14] as number, x15 = block[15] as number;
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;

  // The 64 steps of RFC 1321 written out (a call per step would box its 32-bit operands): each
  // adds the round's function of three registers, a message word and the constant floor(|sin(i + 1)| * 2^32)
  // (written as a signed 32-bit number), rotates and adds the next register.
  let t: number;
  t = (a + ((b & c) | (~b & d)) + x0 - 0x28955b88) | 0;
  a = (((t << 7) | (t >>> 25)) + b) | 0;
  t = (d + ((a & b) | (~a & c)) + x1 - 0x173848aa) | 0;
  d = (((t << 12) | (t >>> 20)) + a) | 0;
  t = (c + ((d & a) | (~d & b)) + x2 + 0x242070db) | 0;
  c = (((t << 17) | (t >>> 15)) + d) | 0;
  t = (b + ((c & d) | (~c & a)) + x3 - 0x3e423112) | 0;
  b = (((t << 22) | (t >>> 10)) + c) | 0;
  t = (a + ((b & c) | (~b & d)) + x4 - 0x0a83f051) | 0;
  a = (((t << 7) | (t >>> 25)) + b) | 0;
  t = (d + ((a & b) | (~a & c)) + x5 + 0x4787c62a) | 0;
  d = (((t << 12) | (t >>> 20)) + a) | 0;
  t = (c + ((d & a) | (~d & b)) + x6 - 0x57cfb9ed) | 0;
  c = (((t << 17) | (t >>> 15)) + d) | 0;
  t = (b + ((c & d) | (~c & a)) + x7 - 0x02b96aff) | 0;
  b = (((t << 22) | (t >>> 10)) + c) | 0;
  t = (a + ((b & c) | (~b & d)) + x8 + 0x698098d8) | 0;
  a = (((t << 7) | (t >>> 25)) + b) | 0;
  t = (d + ((a & b) | (~a & c)) + x9 - 0x74bb0851) | 0;
  d = (((t << 12) | (t >>> 20)) + a) | 0;
  t = (c + ((d & a) | (~d & b)) + x10 - 0x0000a44f) | 0;
  c = (((t << 17) | (t >>> 15)) + d) | 0;
  t = (b + ((c & d) | (~c & a)) + x11 - 0x76a32842) | 0;
  b = (((t << 22) | (t >>> 10)) + c) | 0;
  t = (a + ((b & c) | (~b & d)) + x12 + 0x6b901122) | 0;
  a = (((t << 7) | (t >>> 25)) + b) | 0;
  t = (d + ((a & b) | (~a & c)) + x13 - 0x02678e6d) | 0;
  d = (((t << 12) | (t >>> 20)) + a) | 0;
  t = (c + ((d & a) | (~d & b)) + x14 - 0x5986bc72) | 0;
  c = (((t << 17) | (t >>> 15)) + d) | 0;
  t = (b + ((c & d) | (~c & a)) + x15 + 0x49b40821) | 0;
  b = (((t << 22) | (t >>> 10)) + c) | 0;
  t = (a + ((b & d) | (c & ~d)) + x1 - 0x09e1da9e) | 0;
  a = (((t << 5) | (t >>> 27)) + b) | 0;
  t = (d + ((a & c) | (b & ~c)) + x6 - 0x3fbf4cc0) | 0;
  d = (((t << 9) | (t >>> 23)) + a) | 0;
  t = (c + ((d & b) | (a & ~b)) + x11 + 0x265e5a51) | 0;
  c = (((t << 14) | (t >>> 18)) + d) | 0;
  t = (b + ((c & a) | (d & ~a)) + x0 - 0x16493856) | 0;
  b = (((t << 20) | (t >>> 12)) + c) | 0;
  t = (a + ((b & d) | (c & ~d)) + x5 - 0x29d0efa3) | 0;
  a = (((t << 5) | (t >>> 27)) + b) | 0;
  t = (d + ((a & c) | (b & ~c)) + x10 + 0x02441453) | 0;
  d = (((t << 9) | (t >>> 23)) + a) | 0;
  t = (c + ((d & b) | (a & ~b)) + x15 - 0x275e197f) | 0;
  c = (((t << 14) | (t >>> 18)) + d) | 0;
  t = (b + ((c & a) | (d & ~a)) + x4 - 0x182c0438) | 0;
  b = (((t << 20) | (t >>> 12)) + c) | 0;
  t = (a + ((b & d) | (c & ~d)) + x9 + 0x21e1cde6) | 0;
  a = (((t << 5) | (t >>> 27)) + b) | 0;
  t = (d + ((a & c) | (b & ~c)) + x14 - 0x3cc8f82a) | 0;
  d = (((t << 9) | (t >>> 23)) + a) | 0;
  t = (c + ((d & b) | (a & ~b)) + x3 - 0x0b2af279) | 0;
  c = (((t << 14) | (t >>> 18)) + d) | 0;
  t = (b + ((c & a) | (d & ~a)) + x8 + 0x455a14ed) | 0;
  b = (((t << 20) | (t >>> 12)) + c) | 0;
  t = (a + ((b & d) | (c & ~d)) + x13 - 0x561c16fb) | 0;
  a = (((t << 5) | (t >>> 27)) + b) | 0;
  t = (d + ((a & c) | (b & ~c)) + x2 - 0x03105c08) | 0;
  d = (((t << 9) | (t >>> 23)) + a) | 0;
  t = (c + ((d & b) | (a & ~b)) + x7 + 0x676f02d9) | 0;
  c = (((t << 14) | (t >>> 18)) + d) | 0;
  t = (b + ((c & a) | (d & ~a)) + x12 - 0x72d5b376) | 0;
  b = (((t << 20) | (t >>> 12)) + c) | 0;
  t = (a + (b ^ c ^ d) + x5 - 0x0005c6be) | 0;
  a = (((t << 4) | (t >>> 28)) + b) | 0;
  t = (d + (a ^ b ^ c) + x8 - 0x788e097f) | 0;
  d = (((t << 11) | (t >>> 21)) + a) | 0;
  t = (c + (d ^ a ^ b) + x11 + 0x6d9d6122) | 0;
  c = (((t << 16) | (t >>> 16)) + d) | 0;
  t = (b + (c ^ d ^ a) + x14 - 0x021ac7f4) | 0;
  b = (((t << 23) | (t >>> 9)) + c) | 0;
  t = (a + (b ^ c ^ d) + x1 - 0x5b4115bc) | 0;
  a = (((t << 4) | (t >>> 28)) + b) | 0;
  t = (d + (a ^ b ^ c) + x4 + 0x4bdecfa9) | 0;
  d = (((t << 11) | (t >>> 21)) + a) | 0;
  t = (c + (d ^ a ^ b) + x7 - 0x0944b4a0) | 0;
  c = (((t << 16) | (t >>> 16)) + d) | 0;
  t = (b + (c ^ d ^ a) + x10 - 0x41404390) | 0;
  b = (((t << 23) | (t >>> 9)) + c) | 0;
  t = (a + (b ^ c ^ d) + x13 + 0x289b7ec6) | 0;
  a = (((t << 4) | (t >>> 28)) + b) | 0;
  t = (d + (a ^ b ^ c) + x0 - 0x155ed806) | 0;
  d = (((t << 11) | (t >>> 21)) + a) | 0;
  t = (c + (d ^ a ^ b) + x3 - 0x2b10cf7b) | 0;
  c = (((t << 16) | (t >>> 16)) + d) | 0;
  t = (b + (c ^ d ^ a) + x6 + 0x04881d05) | 0;
  b = (((t << 23) | (t >>> 9)) + c) | 0;
  t = (a + (b ^ c ^ d) + x9 - 0x262b2fc7) | 0;
  a = (((t << 4) | (t >>> 28)) + b) | 0;
  t = (d + (a ^ b ^ c) + x12 - 0x1924661b) | 0;
  d = (((t << 11) | (t >>> 21)) + a) | 0;
  t = (c + (d ^ a ^ b) + x15 + 0x1fa27cf8) | 0;
  c = (((t << 16) | (t >>> 16)) + d) | 0;
  t = (b + (c ^ d ^ a) + x2 - 0x3b53a99b) | 0;
  b = (((t << 23) | (t >>> 9)) + c) | 0;
  t = (a + (c ^ (b | ~d)) + x0 - 0x0bd6ddbc) | 0;
  a = (((t << 6) | (t >>> 26)) + b) | 0;
  t = (d + (b ^ (a | ~c)) + x7 + 0x432aff97) | 0;
  d = (((t << 10) | (t >>> 22)) + a) | 0;
  t = (c + (a ^ (d | ~b)) + x14 - 0x546bdc59) | 0;
  c = (((t << 15) | (t >>> 17)) + d) | 0;
  t = (b + (d ^ (c | ~a)) + x5 - 0x036c5fc7) | 0;
  b = (((t << 21) | (t >>> 11)) + c) | 0;
  t = (a + (c ^ (b | ~d)) + x12 + 0x655b59c3) | 0;
  a = (((t << 6) | (t >>> 26)) + b) | 0;
  t = (d + (b ^ (a | ~c)) + x3 - 0x70f3336e) | 0;
  d = (((t << 10) | (t >>> 22)) + a) | 0;
  t = (c + (a ^ (d | ~b)) + x10 - 0x00100b83) | 0;
  c = (((t << 15) | (t >>> 17)) + d) | 0;
  t = (b + (d ^ (c | ~a)) + x1 - 0x7a7ba22f) | 0;
  b = (((t << 21) | (t >>> 11)) + c) | 0;
  t = (a + (c ^ (b | ~d)) + x8 + 0x6fa87e4f) | 0;
  a = (((t << 6) | (t >>> 26)) + b) | 0;
  t = (d + (b ^ (a | ~c)) + x15 - 0x01d31920) | 0;
  d = (((t << 10) | (t >>> 22)) + a) | 0;
  t = (c + (a ^ (d | ~b)) + x6 - 0x5cfebcec) | 0;
  c = (((t << 15) | (t >>> 17)) + d) | 0;
  t = (b + (d ^ (c | ~a)) + x13 + 0x4e0811a1) | 0;
  b = (((t << 21) | (t >>> 11)) + c) | 0;
  t = (a + (c ^ (b | ~d)) + x4 - 0x08ac817e) | 0;
  a = (((t << 6) | (t >>> 26)) + b) | 0;
  t = (d + (b ^ (a | ~c)) + x11 - 0x42c50dcb) | 0;
  d = (((t << 10) | (t >>> 22)) + a) | 0;
  t = (c + (a ^ (d | ~b)) + x2 + 0x2ad7d2bb) | 0;
  c = (((t << 15) | (t >>> 17)) + d) | 0;
  t = (b + (d ^ (c | ~a)) + x9 - 0x14792c6f) | 0;
  b = (((t << 21) | (t >>> 11)) + c) | 0;


  return percentageOfWords(bigEndian((a + 0x67452301) | 0), bigEndian((b + 0xefcdab89) | 0), bigEndian((c + 0x98badcfe) | 0), bigEndian((d + 0x10325476) | 0));
}
