import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { statCpuMs } from './processes';

/**
 * Where a server's CPU goes, by thread and by kind of work: each thread's CPU time from /proc
 * (what it used, whatever the profiler saw), and `perf record` call stacks of every thread to
 * name the threads (the event loop, V8's platform threads, libuv's pool, Node worker threads) and
 * to split their time (garbage collection, V8's optimising compilers, fsync, SQLite, JSON, crypto, network, the rest of the
 * kernel, the rest). V8's own profiler samples wall time on one thread, so a thread preempted by
 * another on its CPU is charged to whatever it was doing; perf samples CPU time on every thread.
 */

/** CPU time used by each thread of a process (user + system, ms), by thread id. */
export function threadCpuMs(pid: number): Map<number, number> {
  const used = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      used.set(Number(tid), statCpuMs(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return used;
}

export type ThreadKind = 'main' | 'v8 platform' | 'libuv pool' | 'node worker' | 'other';

/** Kinds of work a sample is counted under: the first whose frames its stack holds, in this order. */
export const CATEGORIES = ['gc', 'compile', 'fsync', 'sqlite', 'json', 'crypto', 'network', 'kernel other', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];

const CATEGORY_FRAMES: readonly [Exclude<Category, 'kernel other' | 'other'>, RegExp][] = [
  ['gc', /Heap::CollectGarbage|Scavenger|ConcurrentMarking|Sweeper|MarkCompactCollector|MinorMarkCompact|IncrementalMarking/],
  ['compile', /OptimizedCompilationJob|v8::internal::compiler::|v8::internal::maglev::|BaselineBatchCompiler/],
  ['fsync', /\b(do_fsync|__x64_sys_fdatasync|__x64_sys_fsync)\b/],
  ['sqlite', /\bsqlite3/],
  ['json', /Json(Stringif|Pars)/],
  ['crypto', /EVP_|aes|AES|gcm_|GCM|sha256|SHA256|HMAC|ossl_|CRYPTO_/],
  ['network', /\b(tcp_|sock_|inet_|__sys_sendmsg|__sys_recvmsg)/],
];

export interface ThreadProfile {
  readonly kind: ThreadKind;
  readonly samples: number;
  readonly categories: ReadonlyMap<Category, number>;
}

/**
 * Reads `perf script -F tid,ip,sym,dso` output (a sample's thread id on its first line, its stack
 * below, leaf first; samples apart by blank lines): each thread's samples, its kind, and its
 * samples by category. `mainTid` is the process's id.
 */
export function profileThreads(script: string, mainTid: number): Map<number, ThreadProfile> {
  const counts = new Map<number, { samples: number; marks: Set<ThreadKind>; categories: Map<Category, number> }>();
  for (const block of script.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((line) => line.trim() !== '');
    const tid = Number(lines[0]?.trim().split(/\s+/)[0]);
    if (lines.length < 2 || !Number.isInteger(tid)) continue;
    const frames = lines.slice(1);
    const stack = frames.join('\n');
    const thread = counts.get(tid) ?? { samples: 0, marks: new Set<ThreadKind>(), categories: new Map<Category, number>() };
    counts.set(tid, thread);
    thread.samples++;
    if (stack.includes('PlatformWorkerThread')) thread.marks.add('v8 platform');
    if (stack.includes('node::worker::Worker')) thread.marks.add('node worker');
    // libuv's pool threads run its `worker` function (the main thread never does).
    if (/\sworker \(/.test(stack)) thread.marks.add('libuv pool');
    const leafInKernel = frames[0]?.includes('[kernel.kallsyms]') === true;
    const category = CATEGORY_FRAMES.find(([, frame]) => frame.test(stack))?.[0] ?? (leafInKernel ? 'kernel other' : 'other');
    thread.categories.set(category, (thread.categories.get(category) ?? 0) + 1);
  }
  const profiles = new Map<number, ThreadProfile>();
  for (const [tid, thread] of counts) {
    const kind: ThreadKind = tid === mainTid ? 'main' : (['node worker', 'v8 platform', 'libuv pool'] as const).find((mark) => thread.marks.has(mark)) ?? 'other';
    profiles.set(tid, { kind, samples: thread.samples, categories: thread.categories });
  }
  return profiles;
}

export interface KindBreakdown {
  readonly kind: ThreadKind;
  readonly threads: number;
  /** CPU per request of these threads (from /proc), µs. */
  readonly cpuPerRequest: number;
  /** That CPU split by the shares of the kind's perf samples, µs per request. */
  readonly categories: ReadonlyMap<Category, number>;
}

/**
 * Each kind of thread's CPU per request: the threads' /proc CPU over the run (`cpuMs`, by thread
 * id) divided by the requests, split by the shares of their perf samples (taken over part of the
 * run). A thread perf did not sample (idle, or started after it) counts as `other`.
 */
export function breakdownByKind(cpuMs: ReadonlyMap<number, number>, profiles: ReadonlyMap<number, ThreadProfile>, requests: number): KindBreakdown[] {
  const kinds = new Map<ThreadKind, { threads: number; cpuMs: number; samples: Map<Category, number> }>();
  for (const [tid, used] of cpuMs) {
    const profile = profiles.get(tid);
    const kind = profile?.kind ?? 'other';
    const entry = kinds.get(kind) ?? { threads: 0, cpuMs: 0, samples: new Map<Category, number>() };
    kinds.set(kind, entry);
    entry.threads++;
    entry.cpuMs += used;
    for (const [category, samples] of profile?.categories ?? []) entry.samples.set(category, (entry.samples.get(category) ?? 0) + samples);
  }
  const perRequest = (ms: number): number => (ms * 1000) / Math.max(1, requests);
  return [...kinds]
    .map(([kind, entry]) => {
      const total = [...entry.samples.values()].reduce((sum, samples) => sum + samples, 0);
      const categories = new Map<Category, number>();
      for (const category of CATEGORIES) {
        const samples = entry.samples.get(category) ?? 0;
        if (samples > 0) categories.set(category, (perRequest(entry.cpuMs) * samples) / total);
      }
      return { kind, threads: entry.threads, cpuPerRequest: perRequest(entry.cpuMs), categories };
    })
    .sort((a, b) => b.cpuPerRequest - a.cpuPerRequest);
}

export function formatBreakdown(breakdown: readonly KindBreakdown[]): string {
  return breakdown
    .map(({ kind, threads, cpuPerRequest, categories }) => {
      const split = [...categories].map(([category, us]) => `${category} ${us.toFixed(1)}`).join(', ');
      return `  ${kind} (${threads} thread${threads === 1 ? '' : 's'}) ${cpuPerRequest.toFixed(1)} µs${split ? `: ${split}` : ''}`;
    })
    .join('\n');
}

/** Runs `perf record` with call stacks on every thread of `pid` for `seconds`, then its `perf script` text; null with the reason when perf cannot. */
export async function recordThreads(pid: number, seconds: number, file: string): Promise<{ script: string } | { unavailable: string }> {
  const tids = readdirSync(`/proc/${pid}/task`).join(',');
  // -t with every thread listed: -p has been seen to leave a Node worker thread out.
  const recorded = await run('perf', ['record', '-F', '499', '-g', '-t', tids, '-o', file, '--', 'sleep', String(seconds)]);
  if (recorded.code !== 0) return { unavailable: `perf record failed (${recorded.code ?? 'not found'}): ${recorded.stderr.trim().split('\n').pop() ?? ''}` };
  const script = await run('perf', ['script', '-i', file, '-F', 'tid,ip,sym,dso']);
  if (script.code !== 0) return { unavailable: `perf script failed: ${script.stderr.trim().split('\n').pop() ?? ''}` };
  return { script: script.stdout };
}

function run(command: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => resolve({ code: null, stdout: '', stderr: error.message }));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}
