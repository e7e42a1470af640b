import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { currentTree, type Build } from './builds';
import { measureRebuild } from './offline';
import type { Results } from './report';

/**
 * Scenario 6 of bench:scale on its own, for builds measured in turns on the same data:
 *
 *   node -r @swc-node/register tools/bench/scale/rebuild.ts --data-dir DIR --root before=/tmp/a --root after=/tmp/b [--runs R]
 *
 * Each `--root LABEL=DIR` is a checkout with its dist/ built (a git worktree of the code before a
 * change, say); every run runs `npm run rebuild -- --data-dir DIR --verify` of each build in turn
 * (before, after, before, after), as bench:scale's scenario 6 does, and prints one JSON line per
 * build and run: events/s and seconds as the benchmark reads them (the comparison of --verify
 * left out), the CPU of every thread until then when the build reports it (and per event by
 * thread: main, each part's worker, the rest, when it reports that too), the whole command's
 * wall time with the comparison, differing files, and the load average before and after.
 * --verify writes only under the system's temporary directory, so the same DIR serves every run.
 */
const HELP = 'node -r @swc-node/register tools/bench/scale/rebuild.ts --data-dir DIR --root LABEL=DIR [--root LABEL=DIR ...] [--runs R]';

/** µs of CPU per event of each thread the build reported (`rebuild.cpuSeconds.<thread>`), and of the other threads, or null when it reported none. */
function byThread(results: Results, cpu: number | null, events: number): Record<string, number> | null {
  const prefix = 'rebuild.cpuSeconds.';
  const shares: Record<string, number> = {};
  let named = 0;
  for (const [key, result] of Object.entries(results)) {
    if (!key.startsWith(prefix) || typeof result.value !== 'number') continue;
    shares[key.slice(prefix.length)] = Math.round((result.value * 1e7) / events) / 10;
    named += result.value;
  }
  if (Object.keys(shares).length === 0) return null;
  if (cpu !== null) shares['other'] = Math.round(((cpu - named) * 1e7) / events) / 10;
  return shares;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, root: { type: 'string', multiple: true }, runs: { type: 'string' }, help: { type: 'boolean' } } });
  const roots = (values.root ?? []).map((text) => {
    const at = text.indexOf('=');
    return at > 0 ? { label: text.slice(0, at), root: resolve(text.slice(at + 1)) } : null;
  });
  const runs = Number(values.runs ?? 2);
  if (values.help || !values['data-dir'] || roots.length === 0 || roots.some((root) => root === null) || !Number.isSafeInteger(runs) || runs < 1) {
    console.error(HELP);
    return values.help ? 0 : 2;
  }
  const dataDir = resolve(values['data-dir']);
  const builds: Build[] = roots.map((root) => ({ ...currentTree((root as { root: string }).root, false), label: (root as { label: string }).label }));
  const logDir = join(resolve(__dirname, '..', '..', '..'), 'tmp');
  await mkdir(logDir, { recursive: true });
  const logFile = join(logDir, 'bench-rebuild.log');
  for (const build of builds) console.log(JSON.stringify({ build: build.label, root: build.root, commit: build.describe }));
  for (let run = 1; run <= runs; run++) {
    for (const build of builds) {
      const results: Results = {};
      const loadBefore = loadavg()[0] ?? 0;
      await measureRebuild(build, dataDir, undefined, logFile, results);
      const value = (key: string): number | null => results[key]?.value ?? null;
      const cpu = value('rebuild.cpuSeconds');
      const events = value('rebuild.rate') !== null && value('rebuild.seconds') !== null ? Math.round((value('rebuild.rate') as number) * (value('rebuild.seconds') as number)) : null;
      console.log(
        JSON.stringify({
          build: build.label,
          run,
          eventsPerSecond: value('rebuild.rate') === null ? null : Math.round(value('rebuild.rate') as number),
          seconds: value('rebuild.seconds'),
          cpuSeconds: cpu,
          cpuMicrosPerEvent: cpu !== null && events ? Math.round((cpu * 1e7) / events) / 10 : null,
          // Per thread (builds that report it): the main thread, each part's worker, and the rest (V8's collector and compiler threads, libuv's).
          ...(events ? { cpuMicrosPerEventByThread: byThread(results, cpu, events) } : {}),
          commandSeconds: value('rebuild.commandSeconds') === null ? null : Math.round((value('rebuild.commandSeconds') as number) * 10) / 10,
          differing: value('rebuild.differs'),
          loadAverage: [Math.round(loadBefore * 100) / 100, Math.round((loadavg()[0] ?? 0) * 100) / 100],
        }),
      );
    }
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
