import { readFileSync } from 'node:fs';
import type { IdentityDocument, ReadModelStore } from '@flagline/contracts';
import { EnvironmentRegistry } from '@flagline/evaluation-application';

/**
 * What the evaluation registry's cache of identities does under a stream of synchronous reads,
 * as the standalone app makes it (10,000 identities, read from the store when not cached): the
 * share of reads it answers and how many identities it takes in per 1,000 reads. Each identity
 * taken in is a decoded document kept through young-generation collections, promoted, and later
 * dropped in the old generation, where it waits for a mark-compact; an identity the cache answers
 * saves a read of the store (a few microseconds). Reads are drawn from a seeded generator, so a
 * run is repeatable and the code before and after a change (run from a worktree of each) see the
 * same stream: `uniform` draws every identity alike (scenario 3 of bench:scale), `zipf` draws
 * the identity of rank k with a weight of 1/k (a few identities asked for very often).
 *
 *   node -r @swc-node/register tools/bench/scale/identity-cache.ts [--identities N, default 200000] [--reads R, default 1000000] [--cache C, default 10000] [--help]
 *
 * `--help` prints this and runs nothing.
 */
function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

/** A store nothing reads from asynchronously: every read goes through `readNow`. */
const unusedStore: ReadModelStore = {
  get: () => Promise.resolve(null),
  getMany: (keys) => Promise.resolve(keys.map(() => null)),
  keysWithPrefix: () => Promise.resolve([]),
  checkpoint: () => Promise.resolve(0),
  commit: () => Promise.resolve(true),
  subscribe: () => () => undefined,
  close: () => Promise.resolve(),
};

/**
 * Identities the registry put into its cache: its own count, or, in a build from before it had
 * one, the calls to its cache's `set` (a private field reached here only to measure that build).
 */
function takenIn(registry: EnvironmentRegistry): () => number {
  if ('identitiesCached' in registry) return () => registry.identitiesCached;
  const cache = (registry as unknown as { identities: { set: (...args: unknown[]) => unknown } }).identities;
  const set = cache.set.bind(cache);
  let count = 0;
  cache.set = (...args: unknown[]) => {
    count++;
    return set(...args);
  };
  return () => count;
}

/** A 32-bit linear congruential generator: the same stream in every build. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

function run(shape: 'uniform' | 'zipf', identities: number, reads: number, cacheSize: number): string {
  const document: IdentityDocument = { environmentId: 1, identifier: 'x', identityUuid: 'u', createdAt: '2026-01-01T00:00:00.000Z', traits: {}, overrides: [], revision: 1 };
  let storeReads = 0;
  const registry = new EnvironmentRegistry(unusedStore, {
    identityCacheSize: cacheSize,
    readNow: () => {
      storeReads++;
      return document;
    },
  });
  const cached = takenIn(registry);
  const random = seeded(12_345);
  // Zipf (s = 1) by the inverse of its cumulative weight, ln(k) + γ, over ranks 1..N.
  const harmonic = Math.log(identities) + 0.5772;
  const draw = shape === 'zipf' ? () => Math.min(identities - 1, Math.floor(Math.exp(random() * harmonic - 0.5772))) : () => Math.floor(random() * identities);
  for (let read = 0; read < reads; read++) registry.readIdentityNow(1, `identity-${draw()}`);
  const answered = (100 * (1 - storeReads / reads)).toFixed(1);
  const perThousand = ((1000 * cached()) / reads).toFixed(1);
  return `${shape.padEnd(7)} ${identities.toLocaleString('en')} identities, cache ${cacheSize.toLocaleString('en')}: ${reads.toLocaleString('en')} reads, ${answered} % answered by the cache, ${perThousand} identities taken in per 1,000 reads`;
}

function main(): void {
  if (process.argv.includes('--help')) {
    const usage = /\/\*\*\n( \* What the evaluation registry's cache[\s\S]*?)\n \*\//.exec(readFileSync(__filename, 'utf8'))?.[1] ?? '';
    console.log(usage.replace(/^ \* ?/gm, ''));
    return;
  }
  const identities = option('--identities', 200_000);
  const reads = option('--reads', 1_000_000);
  const cacheSize = option('--cache', 10_000);
  for (const shape of ['uniform', 'zipf'] as const) console.log(run(shape, identities, reads, cacheSize));
}

main();
