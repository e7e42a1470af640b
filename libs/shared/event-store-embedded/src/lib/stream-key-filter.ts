/** Bits in the filter: 2 MiB, whatever the number of streams. */
const FILTER_BITS = 1 << 24;
const MASK = FILTER_BITS - 1;
const PROBES = 3;

/**
 * A Bloom filter of stream keys (`indexKeyOf` of their names), so that asking for a stream that
 * does not exist (every new identity's) mostly costs no index lookup. It only ever answers "may
 * exist" (then the index is asked) or "certainly absent". Its size is fixed: at a million streams
 * about 0.4% of absent names still reach the index, at ten million about a third; memory never
 * grows with the log. A bitset over the key already computed, rather than a library that would
 * hash the name again.
 */
export class StreamKeyFilter {
  private readonly words = new Uint32Array(FILTER_BITS / 32);

  add(key: number): void {
    const { low, step } = probesOf(key);
    for (let probe = 0, at = low; probe < PROBES; probe++, at = (at + step) & MASK) this.words[at >>> 5] = (this.words[at >>> 5] as number) | (1 << (at & 31));
  }

  /** False only for a key never added. */
  mayHave(key: number): boolean {
    const { low, step } = probesOf(key);
    for (let probe = 0, at = low; probe < PROBES; probe++, at = (at + step) & MASK) if (((this.words[at >>> 5] as number) & (1 << (at & 31))) === 0) return false;
    return true;
  }
}

/** Double hashing over the key's two halves: the first probe and the (odd) distance between probes. */
function probesOf(key: number): { low: number; step: number } {
  const high = Math.floor(key / 4294967296);
  return { low: (key >>> 0) & MASK, step: (Math.imul(high ^ (key >>> 16), 0x9e3779b1) | 1) & MASK };
}
