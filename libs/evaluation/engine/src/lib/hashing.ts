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

function percentageOf(text: string): number {
  const digest = md5.array(text);
  let remainder = 0;
  for (let offset = 0; offset < 16; offset += 4) {
    const word = (((digest[offset] as number) << 24) | ((digest[offset + 1] as number) << 16) | ((digest[offset + 2] as number) << 8) | (digest[offset + 3] as number)) >>> 0;
    remainder = (remainder * 0x100000000 + word) % 9999;
  }
  return (remainder / 9998) * 100;
}
