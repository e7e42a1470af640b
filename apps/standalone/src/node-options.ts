import { setFlagsFromString } from 'node:v8';

/**
 * The Node options the standalone app runs with, wherever it is started: `npm start` and its
 * image's `CMD`. The benchmarks start each build as its own `npm start` does
 * (`tools/bench/scale/builds.ts`, `startOptionsOf`), so a build from before an option was set is
 * measured without it.
 *
 * `--initial-old-space-size=128`: V8 then never sets the main thread's old-generation limit below
 * 128 MB. The app serves from a small heap (identity documents come from the read models' file;
 * about 37 MB live at 300,000 identities), and V8's own limit sits a few MB above what lives. Once
 * the room left under it is less than the young generation (two 16 MB semi-spaces), V8 starts
 * incremental marking as a task, again and again: under stored identifies, 4 to 6 mark-compacts
 * per 10 s, each freeing about 2 MB, with marking steps of up to 24 ms between requests. With
 * the floor there were none, and the p99 of stored identify at 300,000 identities went from a
 * median of 14.9 ms to 6.7 ms over six runs each (README, "Scale benchmark", "Old generation of
 * the standalone app"). The
 * cost is memory: garbage that reaches the old generation is collected once it holds about
 * 128 MB instead of about 45 MB.
 */
export const STANDALONE_NODE_OPTIONS: readonly string[] = ['--initial-old-space-size=128'];

/**
 * V8 reads `--initial-old-space-size` for every isolate it makes, worker threads' too. The floor
 * is for the event loop only: a worker (the Merkle tree's follower, the start-up check) left with
 * it grew to about 120 MB before its first full collection. Called at start, before any worker,
 * so those made afterwards get V8's own limits; the main thread keeps the one it was made with.
 */
export function workersWithV8HeapDefaults(): void {
  setFlagsFromString('--initial-old-space-size=0');
}
