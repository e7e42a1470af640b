'use strict';
/**
 * Preloaded into a server under a benchmark (`SERVER_NODE_ARGS="-r tools/bench/scale/event-loop-delay.cjs"`,
 * any build: plain CommonJS): every LOOP_DELAY_EVERY ms (default 5,000) it writes one JSON line to
 * stderr with the event loop's delay over the window (perf_hooks.monitorEventLoopDelay, 1 ms
 * resolution: p50/p99/max in ms) and the garbage collections in it by kind (count, total and
 * longest pause in ms) and the bytes scavenges promoted to the old generation (`promotedBytes`,
 * from v8.GCProfiler), so a latency tail can be set against the pauses that make it. The main
 * thread's only (a worker thread, which inherits the option, writes nothing). With LOOP_DELAY_FILE
 * the lines go to that file instead (`identify-stored.ts --stalls` reads them back per run).
 */
const { monitorEventLoopDelay, PerformanceObserver, constants } = require('node:perf_hooks');
const { isMainThread } = require('node:worker_threads');
const { GCProfiler } = require('node:v8');
const { appendFileSync } = require('node:fs');

if (isMainThread) watch();

function watch() {
  const every = Number(process.env.LOOP_DELAY_EVERY || 5000);
  const file = process.env.LOOP_DELAY_FILE;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const KINDS = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
  };
  let gc = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = KINDS[entry.detail ? entry.detail.kind : entry.kind] || 'other';
      const seen = (gc[kind] = gc[kind] || { count: 0, ms: 0, longest: 0 });
      seen.count++;
      seen.ms += entry.duration;
      seen.longest = Math.max(seen.longest, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });

  // What scavenges moved into the old generation (its used size after each against before it):
  // what a request leaves alive long enough to be marked and compacted later.
  // (Node 18.15 and later; without it the windows carry no figure and the summary prints none.)
  let profiler = GCProfiler ? new GCProfiler() : null;
  profiler?.start();
  const oldSpaceUsed = (heap) => heap.heapSpaceStatistics.find((space) => space.spaceName === 'old_space')?.spaceUsedSize ?? 0;
  const promotedSince = () => {
    if (!profiler) return undefined;
    const statistics = profiler.stop()?.statistics ?? [];
    profiler = new GCProfiler();
    profiler.start();
    let promoted = 0;
    for (const collection of statistics) if (collection.gcType === 'Scavenge') promoted += Math.max(0, oldSpaceUsed(collection.afterGC) - oldSpaceUsed(collection.beforeGC));
    return promoted;
  };

  const round = (value) => Math.round(value * 100) / 100;
  setInterval(() => {
    const window = {
      at: new Date().toISOString(),
      loopDelayMs: { p50: round(delay.percentile(50) / 1e6), p99: round(delay.percentile(99) / 1e6), max: round(delay.max / 1e6) },
      gc: Object.fromEntries(Object.entries(gc).map(([kind, seen]) => [kind, { count: seen.count, ms: round(seen.ms), longest: round(seen.longest) }])),
      promotedBytes: promotedSince(),
    };
    if (file) appendFileSync(file, `${JSON.stringify(window)}\n`);
    else process.stderr.write(`LOOP_DELAY ${JSON.stringify(window)}\n`);
    delay.reset();
    gc = {};
  }, every).unref();
}
