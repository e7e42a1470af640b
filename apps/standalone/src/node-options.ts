/**
 * The Node options the standalone app runs with, wherever it is started: `npm start` and its
 * image's `CMD`. The benchmarks start each build as its own `npm start` script does
 * (`tools/bench/scale/builds.ts`, `startOptionsOf`), so a build from before an option was set is
 * measured without it.
 *
 * `--max-semi-space-size=8`, as the evaluation service runs: a young generation of two 8 MB
 * semi-spaces instead of V8's 16 MB ones. Serving from a small heap (a stored identify's documents
 * come from the read models' file, so the main thread's heap stays at about 35 MB live), the old
 * generation's headroom under V8's default limit is below a 16 MB semi-space, and V8 starts
 * incremental marking as a task again and again: 2 to 5 mark-compacts per 10 s of stored
 * identifies, 7 to 13 ms each, with marking's write barriers on in between. With 8 MB semi-spaces
 * there were none to one per 10 s, the scavenges twice as many and as short, the CPU per request
 * the same within the host's noise, and the p99 of stored identify at 300,000 identities about
 * two-thirds of the default's (README, "Scale benchmark", "Young generation of the standalone app").
 */
export const STANDALONE_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=8'];
