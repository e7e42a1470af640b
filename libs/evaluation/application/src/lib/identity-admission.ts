/**
 * Which identities read synchronously are worth caching (the standalone app's registry): an
 * estimate of how often each identity was read lately, as TinyLFU keeps it, and the rule that
 * admits one to a cache.
 *
 * An identity is cached once it was read `ADMIT_AT` times lately, and, when the cache is full,
 * only if it was read more often than the identity the cache would drop for it. Read at random
 * from a large population (most identities asked for now and then), an identity read twice in a
 * short while is seldom read again before the cache drops it: each one cached was decoded, kept
 * through young-generation collections, promoted to the old generation and died there, which made
 * its mark-compacts. A hot identity reaches the threshold within a few reads and keeps its place.
 */

/**
 * Reads (within the sketch's window) that make an identity worth caching. At 3, random reads of
 * 200,000 identities still promoted about half as much as the rule before (read twice among the
 * last 20,000 reads); at 4, a seventh, while a Zipf-like stream is answered by the cache about as
 * often as before (tools/bench/scale/identity-cache.ts, README "The identity cache's admission").
 */
export const ADMIT_AT = 4;

/**
 * Reads (within the sketch's window) that make an identity's answer worth keeping (see
 * `EnvironmentRegistry.readOften`). Twice the admission's: an identity of a working set larger than
 * the cache is seldom asked for again while its answer is kept, and each answer kept is a few KB
 * of memory of its own (about 7 KB at 20 flags) that outlives the young generation and dies in the
 * old one. With 30,000 of 1,000,000 identities asked for in turn, about one answer in 40 was kept
 * at the cache's own threshold, which held the process about 180 MB above what it serves with
 * (README, "Answers kept for hot identities only"); an identity asked for again and again reaches
 * this within a few reads.
 */
export const KEEP_ANSWER_AT = 2 * ADMIT_AT;

/** Counters stop at this (4 bits' worth, as TinyLFU's). */
const MAX_COUNT = 15;
/** Rows of the count-min sketch, each indexed by another mix of the fingerprint. */
const DEPTH = 4;
/** Odd multipliers, one a row. */
const ROW_SEEDS = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f] as const;

/** FNV-1a's offset basis and prime. */
const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * The identity's 32-bit fingerprint: FNV-1a over its environment id and its identifier's UTF-16
 * code units, never 0 (an empty slot). `keyPrint` gives the same for its cache key.
 */
export function identityPrint(environmentId: number, identifier: string): number {
  return printFrom(Math.imul(FNV_BASIS ^ environmentId, FNV_PRIME), identifier, 0);
}

/** `identityPrint` of a registry cache key (`<environment id>\0<identifier>`), read without slicing it. */
export function keyPrint(key: string): number {
  let environmentId = 0;
  let index = 0;
  for (; index < key.length; index++) {
    const code = key.charCodeAt(index);
    if (code === 0) break;
    environmentId = environmentId * 10 + (code - 48);
  }
  return printFrom(Math.imul(FNV_BASIS ^ environmentId, FNV_PRIME), key, index + 1);
}

function printFrom(seed: number, text: string, from: number): number {
  let print = seed;
  for (let index = from; index < text.length; index++) print = Math.imul(print ^ text.charCodeAt(index), FNV_PRIME);
  return (print >>> 0) || 1;
}

/**
 * How often each fingerprint was seen lately: a count-min sketch of small counters (one byte each,
 * up to 15), whose counts are all halved once as many reads as ten times the cache's size were
 * counted, so old reads weigh less and less. Its size is fixed, 4 rows of 4 counters per cached
 * identity (rounded up to a power of two; TinyLFU's 16 counters per entry, 256 KiB at 10,000
 * identities), so the many identities read once in a window seldom add up to a false count; a
 * read notes nothing that lives on the heap.
 */
export class FrequencySketch {
  private readonly counters: Uint8Array;
  private readonly mask: number;
  private readonly width: number;
  private readonly sampleSize: number;
  private additions = 0;

  constructor(capacity: number) {
    this.width = 2 ** Math.ceil(Math.log2(Math.max(16, 4 * capacity)));
    this.mask = this.width - 1;
    this.counters = new Uint8Array(DEPTH * this.width);
    this.sampleSize = 10 * Math.max(1, capacity);
  }

  /** Counts one read of the fingerprint. */
  increment(print: number): void {
    let added = false;
    for (let row = 0; row < DEPTH; row++) {
      const at = this.slot(print, row);
      const count = this.counters[at] as number;
      if (count < MAX_COUNT) {
        this.counters[at] = count + 1;
        added = true;
      }
    }
    if (added && ++this.additions >= this.sampleSize) this.halve();
  }

  /** The estimated reads of the fingerprint lately (never fewer than it had, sometimes more). */
  frequency(print: number): number {
    let least = MAX_COUNT;
    for (let row = 0; row < DEPTH; row++) least = Math.min(least, this.counters[this.slot(print, row)] as number);
    return least;
  }

  private slot(print: number, row: number): number {
    let mixed = Math.imul(print, ROW_SEEDS[row] as number);
    mixed ^= mixed >>> 15;
    return row * this.width + (mixed & this.mask);
  }

  private halve(): void {
    const counters = this.counters;
    for (let index = 0; index < counters.length; index++) counters[index] = (counters[index] as number) >>> 1;
    this.additions >>>= 1;
  }
}

/**
 * Whether an identity just read (and counted) joins the cache. `victim`: the fingerprint of the
 * identity the cache would drop for it, or undefined when the cache has room; asked only for an
 * identity read often enough.
 */
export function admits(sketch: FrequencySketch, print: number, victim: () => number | undefined): boolean {
  const frequency = sketch.frequency(print);
  if (frequency < ADMIT_AT) return false;
  const dropped = victim();
  return dropped === undefined || frequency > sketch.frequency(dropped);
}
