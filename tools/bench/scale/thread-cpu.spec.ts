import { breakdownByKind, formatBreakdown, profileThreads, threadCpuMs } from './thread-cpu';

/** A `perf script -F tid,ip,sym,dso` sample: its thread id, then its frames, leaf first. */
const sample = (tid: number, ...frames: string[]): string => `${tid} \n${frames.map((frame, at) => `\t    ${(0x1000 + at).toString(16)} ${frame}`).join('\n')}\n`;

const MAIN = 100;
const script = [
  // The event loop: JSON inside a microtask, a scavenge, SQLite's WAL write in the kernel, a socket write, the rest of the kernel, JS.
  sample(MAIN, 'v8::internal::JsonStringifier::SerializeString (/usr/bin/node)', 'v8::internal::Builtin_JsonStringify (/usr/bin/node)', 'node::NodeMainInstance::Run (/usr/bin/node)'),
  sample(MAIN, 'v8::internal::Scavenger::ScavengeObject (/usr/bin/node)', 'v8::internal::Heap::CollectGarbage (/usr/bin/node)', 'Builtins_JsonStringify (/usr/bin/node)'),
  sample(MAIN, 'ext4_buffered_write_iter ([kernel.kallsyms])', '__x64_sys_pwrite64 ([kernel.kallsyms])', 'unixWrite (/x/better_sqlite3.node)', 'sqlite3WalFrames (/x/better_sqlite3.node)'),
  sample(MAIN, 'tcp_sendmsg_locked ([kernel.kallsyms])', 'sock_write_iter ([kernel.kallsyms])', 'writev (/usr/lib/libc.so.6)'),
  sample(MAIN, 'finish_task_switch.isra.0 ([kernel.kallsyms])', 'schedule ([kernel.kallsyms])', 'epoll_pwait (/usr/lib/libc.so.6)'),
  sample(MAIN, 'JS:*sealEvent /x/event-sealer.ts:95:19 (/tmp/perf-100.map)', 'Builtins_RunMicrotasks (/usr/bin/node)'),
  sample(MAIN, 'aes_gcm_cipher (/usr/bin/node)', 'EVP_CipherUpdate (/usr/bin/node)'),
  // V8's platform threads: parallel scavenging.
  sample(101, 'v8::internal::Scavenger::Process (/usr/bin/node)', 'v8::platform::DefaultJobWorker::Run (/usr/bin/node)', 'node::(anonymous namespace)::PlatformWorkerThread (/usr/bin/node)'),
  sample(101, 'v8::internal::ConcurrentMarking::RunMajor (/usr/bin/node)', 'node::(anonymous namespace)::PlatformWorkerThread (/usr/bin/node)'),
  // ... and TurboFan compiling a function.
  sample(101, 'v8::internal::compiler::Scheduler::ScheduleLate (/usr/bin/node)', 'v8::internal::OptimizedCompilationJob::ExecuteJob (/usr/bin/node)', 'node::(anonymous namespace)::PlatformWorkerThread (/usr/bin/node)'),
  // libuv's pool: fdatasync.
  sample(102, 'ext4_sync_file ([kernel.kallsyms])', 'do_fsync ([kernel.kallsyms])', 'fdatasync (/usr/lib/libc.so.6)', 'worker (/usr/bin/node)', 'start_thread (/usr/lib/libc.so.6)'),
  // A Node worker thread: SQLite and hashing.
  sample(103, 'sqlite3VdbeExec (/x/better_sqlite3.node)', 'node::worker::Worker::Run (/usr/bin/node)'),
  sample(103, 'sha256_block_data_order_avx2 (/usr/bin/node)', 'node::worker::Worker::Run (/usr/bin/node)'),
].join('\n');

describe('profileThreads', () => {
  const profiles = profileThreads(script, MAIN);

  it('names each thread by the frames its samples hold, the process id being the main thread', () => {
    expect([...profiles].map(([tid, profile]) => [tid, profile.kind, profile.samples])).toEqual([
      [MAIN, 'main', 7],
      [101, 'v8 platform', 3],
      [102, 'libuv pool', 1],
      [103, 'node worker', 2],
    ]);
  });

  it('counts a sample under the first kind of work its stack holds: GC before JSON, SQLite before the kernel write it made', () => {
    expect(Object.fromEntries(profiles.get(MAIN)?.categories ?? [])).toEqual({ json: 1, gc: 1, sqlite: 1, network: 1, 'kernel other': 1, other: 1, crypto: 1 });
    expect(Object.fromEntries(profiles.get(101)?.categories ?? [])).toEqual({ gc: 2, compile: 1 });
    expect(Object.fromEntries(profiles.get(102)?.categories ?? [])).toEqual({ fsync: 1 });
    expect(Object.fromEntries(profiles.get(103)?.categories ?? [])).toEqual({ sqlite: 1, crypto: 1 });
  });
});

describe('breakdownByKind', () => {
  it("splits each kind's /proc CPU per request by its sample shares, and counts a thread perf never sampled as other", () => {
    const profiles = profileThreads(script, MAIN);
    // ms of CPU over the run, by thread id; 104 was idle while perf ran.
    const used = new Map([
      [MAIN, 700],
      [101, 100],
      [102, 60],
      [103, 40],
      [104, 5],
    ]);
    const breakdown = breakdownByKind(used, profiles, 10_000);
    expect(breakdown.map(({ kind, threads, cpuPerRequest }) => [kind, threads, cpuPerRequest])).toEqual([
      ['main', 1, 70],
      ['v8 platform', 1, 10],
      ['libuv pool', 1, 6],
      ['node worker', 1, 4],
      ['other', 1, 0.5],
    ]);
    // 70 µs over 7 samples, one of each kind of work.
    expect(breakdown[0]?.categories.get('json')).toBeCloseTo(10);
    expect(breakdown[3]?.categories.get('sqlite')).toBeCloseTo(2);
    expect(breakdown[4]?.categories.size).toBe(0);
    expect(formatBreakdown(breakdown).split('\n')[2]).toBe('  libuv pool (1 thread) 6.0 µs: fsync 6.0');
  });
});

describe('threadCpuMs', () => {
  it("reads every thread of this process, the main thread's id being the process's", () => {
    const used = threadCpuMs(process.pid);
    expect(used.has(process.pid)).toBe(true);
    for (const ms of used.values()) expect(ms).toBeGreaterThanOrEqual(0);
  });
});
