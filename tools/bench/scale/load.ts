// The autocannon driver moved to tools/bench/load-generator.ts, with wrk and oha beside it; the
// count-bounded loads (loading N identities) still use it under this name.
export { autocannonLoad as load, type LoadOptions, type LoadOutcome } from '../load-generator';
