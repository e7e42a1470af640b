import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventMetadata, NewEvent } from '@flagline/event-sourcing';
import { EmbeddedEventStore } from '@flagline/event-store-embedded';

/**
 * The embedded event store at scale: writes N events in identity-like streams (one stream per
 * identity, 1-2 events per append, many appends in flight so they share group commits), then
 * prints the append rate, the RSS, the open time of the written log (with its index), the open
 * time once the index is deleted (rebuilt from the log), and the sequential read rate of
 * `readAll` in pages and of `subscribeToAll` from 0.
 *
 *   node -r @swc-node/register tools/bench/scale/event-store.ts [N]
 *
 * N defaults to 2,000,000 (EVENT_STORE_BENCH_EVENTS also sets it). EVENT_STORE_BENCH_DIR keeps
 * the data in that directory instead of a temporary one that is removed at the end;
 * EVENT_STORE_BENCH_STEPS picks steps (write,open,open-rebuild,read). Each step runs in a process
 * of its own, so each RSS is that step's alone. Rates are given per second of wall time and per
 * second of the process's CPU time, which the other load of a shared machine changes least.
 */
const TOTAL = Number(process.argv[2] ?? process.env['EVENT_STORE_BENCH_EVENTS'] ?? 2_000_000);
const IN_FLIGHT = 512;
const PAGE = 10_000;
const INDEX_FILES = ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm'];

const metadata: EventMetadata = {
  actor: { kind: 'system', id: 'bench' },
  occurredAt: '2026-12-05T00:00:00.000Z',
  correlationId: 'event-store-bench',
};

function identityEvents(identity: number, count: number): NewEvent[] {
  const identifier = `user-${identity.toString(36)}-${randomUUID().slice(0, 8)}`;
  const created: NewEvent = {
    id: randomUUID(),
    type: 'IdentityCreated',
    data: { environmentId: 1, identifier, createdAt: metadata.occurredAt },
    metadata,
  };
  const traits: NewEvent = {
    id: randomUUID(),
    type: 'IdentityTraitsSet',
    data: {
      environmentId: 1,
      identifier,
      traits: { plan: identity % 3 === 0 ? 'pro' : 'free', age: identity % 90, country: 'fr', beta: identity % 2 === 0, app_version: '2.3.0' },
    },
    metadata,
  };
  return count === 1 ? [created] : [created, traits];
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

/** Events per second of wall time, and per second of this process's CPU time (what a shared machine's other load changes least). */
function rate(events: number, { ms, cpuMs }: { ms: number; cpuMs: number }): string {
  const perSecond = (per: number): string => `${Math.round((events / per) * 1000).toLocaleString('en-US')}`;
  return `${perSecond(ms)} events/s (${perSecond(cpuMs)} per CPU-second)`;
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number }> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const value = await run();
  const used = process.cpuUsage(cpu);
  return { value, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
}

async function write(directory: string): Promise<void> {
  const store = await EmbeddedEventStore.open({ directory });
  let written = 0;
  let identity = 0;
  const writing = await timed(async () => {
    const worker = async (): Promise<void> => {
      while (written < TOTAL) {
        const count = Math.min(TOTAL - written, identity % 4 === 0 ? 1 : 2);
        written += count;
        await store.appendToStream(`identity-${identity++}`, identityEvents(identity, count), { expectedRevision: 'no_stream' });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  });
  global.gc?.();
  console.log(
    `append           ${rate(TOTAL, writing)}, ${TOTAL.toLocaleString('en-US')} events in ${(writing.ms / 1000).toFixed(1)} s, RSS ${mb(process.memoryUsage().rss)}`,
  );
  await store.close();
}

async function openTimed(directory: string, label: string): Promise<void> {
  const { value: store, ms, cpuMs } = await timed(() => EmbeddedEventStore.open({ directory }));
  const head = await store.headPosition();
  global.gc?.();
  console.log(`${label.padEnd(16)} ${ms.toFixed(0)} ms (${cpuMs.toFixed(0)} ms CPU, head ${head.toLocaleString('en-US')}), RSS ${mb(process.memoryUsage().rss)}`);
  await store.close();
}

async function readSequentially(directory: string): Promise<void> {
  const store = await EmbeddedEventStore.open({ directory });
  const head = await store.headPosition();
  const paged = await timed(async () => {
    let after = 0;
    while (after < head) {
      const page = await store.readAll({ after, maxCount: PAGE });
      after = page[page.length - 1]?.globalPosition ?? head;
    }
  });
  console.log(`readAll pages    ${rate(head, paged)}, pages of ${PAGE.toLocaleString('en-US')}, RSS ${mb(process.memoryUsage().rss)}`);
  let seen = 0;
  const subscribed = await timed(async () => {
    const subscription = store.subscribeToAll({ after: 0 }, () => {
      seen++;
    });
    await subscription.caughtUp;
    await subscription.stop();
  });
  console.log(`subscribeToAll   ${rate(seen, subscribed)}, RSS ${mb(process.memoryUsage().rss)}`);
  await store.close();
}

type Step = 'write' | 'open' | 'open-rebuild' | 'read';

async function runStep(step: Step, directory: string): Promise<void> {
  switch (step) {
    case 'write':
      return write(directory);
    case 'open':
      return openTimed(directory, 'open');
    case 'open-rebuild':
      await Promise.all(INDEX_FILES.map((name) => rm(join(directory, name), { force: true })));
      return openTimed(directory, 'open, no index');
    case 'read':
      return readSequentially(directory);
  }
}

function inChildProcess(step: Step, directory: string): void {
  execFileSync(process.execPath, [...process.execArgv, __filename, String(TOTAL), '--step', step, directory], { stdio: 'inherit' });
}

async function main(): Promise<void> {
  const stepAt = process.argv.indexOf('--step');
  if (stepAt >= 0) return runStep(process.argv[stepAt + 1] as Step, process.argv[stepAt + 2] ?? '');
  const kept = process.env['EVENT_STORE_BENCH_DIR'];
  const directory = kept ?? (await mkdtemp(join(tmpdir(), 'flagline-event-store-bench-')));
  console.log(`event store bench: ${TOTAL.toLocaleString('en-US')} events in ${directory}`);
  try {
    const steps = (process.env['EVENT_STORE_BENCH_STEPS']?.split(',') as Step[] | undefined) ?? ['write', 'open', 'open-rebuild', 'open', 'read'];
    for (const step of steps) inChildProcess(step, directory);
  } finally {
    if (!kept) await rm(directory, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
