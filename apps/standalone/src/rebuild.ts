import { DirectoryLockedError } from '@flagline/event-store-embedded';
import { SingleBar } from 'cli-progress';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { compareInWorkers, REBUILD_BATCH_EVENTS, rebuildParts, standaloneParts, swapIn, type Rebuilt } from './rebuild-parts';

const USAGE = `Usage: npm run rebuild -- [--data-dir <dir>] [--verify] [--batch-events <n>]

Rebuilds the standalone app's derived state (read models, admin catalog) from the event log in
<dir>/events, with the app stopped. Without --verify, the fresh files replace the live ones, each
with one rename. With --verify, they are built in a temporary directory and compared with the
live ones byte for byte; the first differing key is named and the exit code is 1.
Events are applied and persisted in batches of --batch-events (default ${REBUILD_BATCH_EVENTS}).
The data directory defaults to DATA_DIR, or ./data.`;

interface Arguments {
  readonly dataDir: string;
  readonly verify: boolean;
  readonly batchEvents: number;
}

function parseArguments(argv: readonly string[]): Arguments | string {
  let dataDir = process.env['DATA_DIR'] ?? './data';
  let verify = false;
  let batchEvents = REBUILD_BATCH_EVENTS;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] as string;
    if (argument === '--verify') verify = true;
    else if (argument === '--data-dir') {
      const value = argv[++index];
      if (!value) return '--data-dir needs a directory';
      dataDir = value;
    } else if (argument.startsWith('--data-dir=')) dataDir = argument.slice('--data-dir='.length);
    else if (argument === '--batch-events') {
      batchEvents = Number(argv[++index]);
      if (!Number.isSafeInteger(batchEvents) || batchEvents < 1) return '--batch-events needs a positive integer';
    }
    else if (argument === '--help' || argument === '-h') return '';
    else return `unknown argument ${argument}`;
  }
  return { dataDir: resolve(dataDir), verify, batchEvents };
}

/** The CPU seconds of the main thread and of each part's worker thread, by name (`main`, then each part's key), or null where a thread's cannot be read. */
function threadShares(rebuilt: Rebuilt): Record<string, number> | null {
  if (rebuilt.mainCpuSeconds === null) return null;
  const shares: Record<string, number> = { main: Math.round(rebuilt.mainCpuSeconds * 1_000) / 1_000 };
  for (const { part, cpuSeconds } of rebuilt.parts) {
    if (cpuSeconds === null) return null;
    shares[part.key] = Math.round(cpuSeconds * 1_000) / 1_000;
  }
  return shares;
}

async function main(): Promise<number> {
  const parsed = parseArguments(process.argv.slice(2));
  if (typeof parsed === 'string') {
    console.error(parsed === '' ? USAGE : `rebuild: ${parsed}\n\n${USAGE}`);
    return parsed === '' ? 0 : 2;
  }
  const scratch = parsed.verify ? mkdtempSync(join(tmpdir(), 'flagline-verify-')) : null;
  const bar = new SingleBar({
    format: 'rebuild [{bar}] {percentage}% | {value}/{total} events | {speed} events/s | ETA {eta_formatted}',
    etaBuffer: 50,
    fps: 5,
    noTTYOutput: true,
    notTTYSchedule: 1_000,
    stream: process.stderr,
  });
  const started = Date.now();
  try {
    return await rebuildParts(
      {
        dataDir: parsed.dataDir,
        parts: standaloneParts(),
        batchEvents: parsed.batchEvents,
        freshPath: scratch ? (part) => join(scratch, part.fileName) : undefined,
        onStart: (head) => bar.start(head, 0, { speed: 0 }),
        onProgress: ({ position }) => bar.update(position, { speed: Math.round(position / Math.max(0.001, (Date.now() - started) / 1000)) }),
      },
      // Still holding the data directory's lock: an app starting now waits instead of opening a file being replaced.
      (result) => {
        bar.stop();
        const seconds = (Date.now() - started) / 1000;
        // CPU of every thread of the process so far (the comparison of --verify not included): what a loaded host changes least.
        const used = process.cpuUsage();
        const cpuSeconds = Math.round((used.user + used.system) / 1_000) / 1_000;
        console.log(
          `rebuilt ${result.parts.map(({ part }) => part.name).join(' and ')} from ${result.events} events in ${seconds.toFixed(1)} s (${Math.round(result.events / seconds)} events/s, ${cpuSeconds.toFixed(1)} s of CPU, ${((cpuSeconds * 1e6) / Math.max(1, result.events)).toFixed(1)} µs per event)`,
        );
        // Where the CPU went, thread by thread (Linux); the rest is V8's collector and compiler threads and libuv's.
        const threads = threadShares(result);
        if (threads) console.log(`CPU by thread: ${Object.entries(threads).map(([name, used]) => `${name} ${used.toFixed(2)} s`).join(', ')}, other threads ${(cpuSeconds - Object.values(threads).reduce((sum, used) => sum + used, 0)).toFixed(2)} s`);
        // The last line, for scripts (the scale benchmark reads it).
        const summary = (extra: Record<string, unknown>): void =>
          console.log(JSON.stringify({ events: result.events, seconds, cpuSeconds, ...(threads ? { threadCpuSeconds: threads } : {}), ...extra }));
        if (!parsed.verify) {
          for (const { freshPath, livePath } of result.parts) swapIn(freshPath, livePath);
          console.log(`swapped in: ${result.parts.map(({ livePath }) => basename(livePath)).join(', ')}`);
          summary({ swapped: true });
          return 0;
        }
        // The parts' files are compared at once, each in a worker thread.
        return compareInWorkers(result.parts).then((differences) => {
          let same = true;
          result.parts.forEach(({ part, livePath }, index) => {
            const difference = differences[index] ?? null;
            if (difference) {
              same = false;
              console.log(`${part.name}: ${basename(livePath)} differs from a rebuild: table ${difference.table}, key ${JSON.stringify(difference.key)}: ${difference.detail}`);
            } else console.log(`${part.name}: ${basename(livePath)} equals a rebuild from the log`);
          });
          summary({ equal: same });
          return same ? 0 : 1;
        });
      },
    );
  } catch (error) {
    bar.stop();
    if (error instanceof DirectoryLockedError) {
      console.error(`rebuild: the app is running on ${parsed.dataDir} (${error.message}); stop it first`);
    } else console.error('rebuild failed:', error);
    return 2;
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
