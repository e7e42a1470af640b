import { EnvironmentRegistry, FlagsmithSdkService, type SdkAnswer } from '@flagline/evaluation-application';
import { SqliteReadModelStore } from '@flagline/read-model-sqlite';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { startStandalone } from '../../../apps/standalone/src/standalone';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { identityBody } from '../support';
import { scaleIdentity } from './identities';
import { percentile } from './report';

/**
 * The read path of identify alone, in process, without HTTP: the read models of a data
 * directory loaded by `identify-stored.ts --data-dir DIR` (a copy of its read-models.sqlite),
 * the standalone app's registry and SDK service over them, and `identifyRaw` called with the
 * identify bodies of stored identities drawn at random, one at a time. Prints CPU per call and
 * the p50/p99/max of single calls: a figure the other load on a shared machine hardly moves.
 * The store is opened as the standalone app opens it (its filter of identity keys filled first, so
 * an identity never stored is answered without a read). `--transient` also calls it with
 * transient identifies of identities never stored (the same traits): the difference is the
 * stored identity's read. `--app` starts the whole standalone app in process on DIR itself (the
 * data directory's lock taken: no server may run on it) and calls its own registry, with what the
 * app asks before reading an identity, once the start-up check of the log against the Merkle tree
 * is done; run from a worktree of another commit, it measures that commit's code the same way.
 * `--mapped MIB` has identity reads go through a memory map of that much of the file (the store's
 * `mappedReadBytes`, the app's `READ_MODELS_MAPPED_MB`); without it, the store maps none and the
 * app (`--app`) maps what it does by default.
 *
 *   node -r @swc-node/register tools/bench/scale/identify-read-path.ts DIR [calls, default 200000] [--transient] [--app] [--mapped MIB] [--help]
 *
 * `--help` prints this and opens nothing.
 */
interface Loaded {
  readonly adminKey: string;
  readonly serverKey: string;
  readonly identities: number;
}

/** `--mapped MIB`: MiB of the file mapped for identity reads (undefined without the option). */
function mappedMiB(): number | undefined {
  const at = process.argv.indexOf('--mapped');
  if (at < 0) return undefined;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 0) throw new Error('--mapped takes a whole number of MiB');
  return value;
}

/** The registry identify reads through: over a copy of DIR's read models, or the standalone app's own (`--app`). */
async function openRegistry(dataDir: string, loaded: Loaded): Promise<{ registry: EnvironmentRegistry; close(): Promise<void> }> {
  const mapped = mappedMiB();
  if (process.argv.includes('--app')) {
    const app = await startStandalone({ port: 0, host: '127.0.0.1', dataDir, adminApiKey: loaded.adminKey, adminEmail: 'admin@flagline.local', adminKeyGenerated: false, ...(mapped !== undefined ? { readModelsMappedMiB: mapped } : {}) });
    // The check runs behind the serving, on the same thread: its CPU would count as the calls'.
    while (!app.transparency.check.done) await new Promise((resolveCheck) => setTimeout(resolveCheck, 200));
    return { registry: app.registry, close: () => app.close() };
  }
  const work = await mkdtemp(join(tmpdir(), 'flagline-read-path-'));
  const path = join(work, 'read-models.sqlite');
  copyFileSync(join(dataDir, 'read-models.sqlite'), path);
  if (existsSync(join(dataDir, 'read-models.sqlite-wal'))) copyFileSync(join(dataDir, 'read-models.sqlite-wal'), `${path}-wal`);
  const store = SqliteReadModelStore.open({ path, integrityCheck: 'none', trackWrittenIdentities: true, mappedReadBytes: (mapped ?? 0) * 1024 * 1024 });
  // As the standalone app makes it (apps/standalone/src/standalone.ts), once its filter is filled.
  const registry = new EnvironmentRegistry(store, { identityCacheSize: 10_000, readNow: (key) => store.getNow(key) });
  while (!store.identityFilterComplete) await new Promise((resolveFill) => setImmediate(resolveFill));
  await registry.start();
  return {
    registry,
    close: async () => {
      registry.stop();
      await store.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    const usage = /\/\*\*\n( \* The read path of identify alone[\s\S]*?)\n \*\//.exec(readFileSync(__filename, 'utf8'))?.[1] ?? '';
    console.log(usage.replace(/^ \* ?/gm, ''));
    return;
  }
  const dataDir = resolve(process.argv[2] ?? '');
  const calls = Number(process.argv[3] !== undefined && !process.argv[3].startsWith('--') ? process.argv[3] : 200_000);
  const manifest = join(dataDir, 'identify-stored.json');
  if (!existsSync(manifest)) throw new Error(`${manifest} is missing: load identities with identify-stored.ts --data-dir ${dataDir} first`);
  const loaded = JSON.parse(readFileSync(manifest, 'utf8')) as Loaded;
  const { registry, close } = await openRegistry(dataDir, loaded);
  try {
    const sdk = new FlagsmithSdkService(registry);
    const resolved = registry.resolve(loaded.serverKey);
    if (!resolved) throw new Error('the server key of the manifest resolves to no environment');
    let seed = 12_345;
    const nextBody = (): string => {
      seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
      return identityBody(scaleIdentity('scale-', seed % Math.max(1, loaded.identities - 100)));
    };
    const call = async (body: string): Promise<SdkAnswer> => sdk.identifyRaw(resolved, body, () => 'bench');
    // Warm-up: the JIT settled, SQLite's cache as a running server's.
    for (let index = 0; index < 20_000; index++) await call(nextBody());
    const measure = async (name: string, bodies: readonly string[]): Promise<void> => {
      const times = new Float64Array(bodies.length);
      let failed = 0;
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      for (let index = 0; index < bodies.length; index++) {
        const at = performance.now();
        const answer = await call(bodies[index] as string);
        times[index] = performance.now() - at;
        if (answer.status !== 200) failed++;
      }
      const elapsed = performance.now() - started;
      const cpu = process.cpuUsage(cpuBefore);
      const sorted = Array.from(times);
      console.log(
        `identifyRaw, ${name} (${loaded.identities.toLocaleString('en')} stored): ${((cpu.user + cpu.system) / bodies.length).toFixed(1)} µs CPU/call, ` +
          `${((elapsed * 1000) / bodies.length).toFixed(1)} µs wall/call, p50 ${(percentile(sorted, 0.5) * 1000).toFixed(1)} µs, ` +
          `p99 ${(percentile(sorted, 0.99) * 1000).toFixed(1)} µs, max ${(sorted.reduce((most, time) => Math.max(most, time), 0) * 1000).toFixed(0)} µs, ${failed} failed, RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB`,
      );
    };
    await measure('stored identities', Array.from({ length: calls }, nextBody));
    if (process.argv.includes('--transient')) {
      // Never stored (a prefix no stored identifier has), with the traits of a stored one: evaluated, nothing read.
      await measure(
        'transient identities',
        Array.from({ length: calls }, () => {
          seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
          const identity = scaleIdentity('scale-', seed % Math.max(1, loaded.identities - 100));
          return identityBody({ ...identity, identifier: `visitor-${identity.identifier}` }, { transient: true });
        }),
      );
    }
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
