/**
 * The Node options the evaluation service runs with, wherever it is started: its image's `CMD`
 * (which Docker Compose and the Kubernetes manifests run as it is), `npm run distributed`, and the
 * benchmarks (`npm run bench`, `npm run bench:rss`).
 *
 * `--max-semi-space-size=8`: a young generation of two 8 MB semi-spaces instead of V8's 16 MB
 * ones. Under a stream of requests the young generation grows to its limit and stays there, so
 * this is 16 MB less resident memory (with the benchmark environment and 100,000 cached identities,
 * about 164 MB against 146 MB); the answers' garbage dies young either way, so scavenges come twice
 * as often but each copies what survives, which is the same: the CPU per request measured the same
 * within the host's noise (README, "Evaluation-service memory").
 */
export const EVALUATION_SERVICE_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=8'];
