/**
 * What one more record costs each embedded store the issue named as a candidate (better-sqlite3,
 * classic-level's LevelDB, lmdb) when it lands at a random place of a file that already holds
 * N records, as a new identity's key, index entry or document does: CPU of every thread of a
 * child process per record (the stores' own threads included: LevelDB compacts and lmdb commits
 * on threads of their own), of which the kernel's, and wall time, over the last M records.
 *
 * Two ways the app writes such records:
 * - `group`: 30 records per commit, each commit durable before the next (the sealing keys and the
 *   log's index write with each group commit of the log, whose appends wait for it);
 * - `write-behind`: 4,000 records per commit, durability left to the store's checkpoints (the
 *   admin catalog and the read models, flushed every second from what they hold in memory).
 *
 * SQLite is measured as the stores use it: a rowid table the records are appended to and a
 * narrow WITHOUT ROWID index of their random 48-bit ids (WAL; `synchronous = FULL` for `group`,
 * `NORMAL` for `write-behind`). LevelDB and lmdb keep each record under its id, one put each
 * (LevelDB: `sync` batches for `group`, unsynced ones for `write-behind`; lmdb: a synchronous
 * transaction per commit, its only mode that survives a system crash). The other two stores are
 * not dependencies of the project: they are installed into a scratch directory on first use.
 *
 *   node -r @swc-node/register tools/bench/scale/store-engines.ts [--items N] [--writes M] [--rounds R] [--engines sqlite,leveldb,lmdb]
 */
import Database from 'better-sqlite3';
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from './report';

const ENGINES = ['sqlite', 'leveldb', 'lmdb'] as const;
type Engine = (typeof ENGINES)[number];
const PATTERNS = { group: 30, 'write-behind': 4_000 } as const;
type Pattern = keyof typeof PATTERNS;
/** The versions measured: pinned, so that a later run measures the same code. */
const PACKAGES = { leveldb: 'classic-level@1.4.1', lmdb: 'lmdb@3.5.6' } as const;
const SCRATCH = join(tmpdir(), 'flagline-store-engines');

interface Measured {
  readonly engine: Engine;
  readonly pattern: Pattern;
  readonly cpu: number;
  readonly system: number;
  readonly wall: number;
  readonly megabytes: number;
}

/** The records, the same in every engine: a random 48-bit id (from a fixed seed) and a value of the size of a sealing key's row. */
function records(seed: number): () => { readonly id: Buffer; readonly value: Buffer } {
  let state = seed >>> 0;
  const next32 = (): number => {
    // xorshift32: the same ids in every child, with no allocation.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>>= 0);
  };
  const tail = Buffer.alloc(32, 7);
  return () => {
    const id = Buffer.allocUnsafe(8);
    id.writeUInt16BE(0, 0);
    id.writeUInt32BE(next32(), 2);
    id.writeUInt16BE(next32() & 0xffff, 6);
    return { id, value: Buffer.concat([Buffer.from(`identity-${id.toString('hex')}`), tail]) };
  };
}

/** A store under measurement: `write` commits a batch as the pattern does. */
interface Store {
  write(batch: readonly { readonly id: Buffer; readonly value: Buffer }[], durable: boolean): void | Promise<void>;
  close(): void | Promise<void>;
}

interface LevelDatabase {
  open(): Promise<void>;
  batch(operations: { type: 'put'; key: Buffer; value: Buffer }[], options: { sync: boolean }): Promise<void>;
  close(): Promise<void>;
}
interface ClassicLevelModule {
  readonly ClassicLevel: new (location: string, options: { keyEncoding: 'buffer'; valueEncoding: 'buffer' }) => LevelDatabase;
}
interface LmdbDatabase {
  transactionSync<T>(action: () => T): T;
  putSync(key: Buffer, value: Buffer): boolean;
  close(): Promise<void>;
}
interface LmdbModule {
  open(options: { path: string; keyEncoding: 'binary'; encoding: 'binary'; mapSize: number }): LmdbDatabase;
}

const fromScratch = (name: string): unknown => createRequire(join(SCRATCH, 'package.json'))(name);

async function openStore(engine: Engine, directory: string, pattern: Pattern): Promise<Store> {
  if (engine === 'sqlite') {
    const db = new Database(join(directory, 'store.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${pattern === 'group' ? 'FULL' : 'NORMAL'}`);
    db.pragma('cache_size = -16384');
    db.exec('CREATE TABLE records (owner_key INTEGER NOT NULL, value BLOB NOT NULL); CREATE TABLE record_keys (owner_key INTEGER NOT NULL, row INTEGER NOT NULL, PRIMARY KEY (owner_key, row)) WITHOUT ROWID;');
    const insert = db.prepare<[bigint, Buffer]>('INSERT INTO records (owner_key, value) VALUES (?, ?)');
    const index = db.prepare<[bigint, number | bigint]>('INSERT INTO record_keys (owner_key, row) VALUES (?, ?)');
    const commit = db.transaction((batch: readonly { readonly id: Buffer; readonly value: Buffer }[]) => {
      for (const { id, value } of batch) {
        const key = id.readBigUInt64BE(0);
        index.run(key, insert.run(key, value).lastInsertRowid);
      }
    });
    return { write: (batch) => void commit(batch), close: () => void db.close() };
  }
  if (engine === 'leveldb') {
    const { ClassicLevel } = fromScratch('classic-level') as ClassicLevelModule;
    const db = new ClassicLevel(join(directory, 'level'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    await db.open();
    return {
      write: (batch, durable) => db.batch(batch.map(({ id, value }) => ({ type: 'put', key: id, value })), { sync: durable }),
      close: () => db.close(),
    };
  }
  const { open } = fromScratch('lmdb') as LmdbModule;
  const db = open({ path: join(directory, 'lmdb'), keyEncoding: 'binary', encoding: 'binary', mapSize: 8 * 2 ** 30 });
  return {
    write: (batch) =>
      void db.transactionSync(() => {
        for (const { id, value } of batch) db.putSync(id, value);
      }),
    close: () => db.close(),
  };
}

function directoryBytes(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + directoryBytes(join(path, name)), 0);
}

/** In the child: fills a fresh store with `items` records, then measures `writes` more in the pattern's commits. */
async function measure(engine: Engine, pattern: Pattern, items: number, writes: number): Promise<Measured> {
  const directory = mkdtempSync(join(tmpdir(), `flagline-store-${engine}-`));
  try {
    const next = records(0x9e3779b9);
    const store = await openStore(engine, directory, pattern);
    const batch = (size: number): { id: Buffer; value: Buffer }[] => Array.from({ length: size }, next);
    // Filled as fast as each allows (big commits, no sync), then a round of the pattern to settle.
    for (let done = 0; done < items; done += 10_000) await store.write(batch(Math.min(10_000, items - done)), false);
    const size = PATTERNS[pattern];
    for (let done = 0; done < 2_000; done += size) await store.write(batch(size), pattern === 'group');
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    let written = 0;
    for (; written < writes; written += size) await store.write(batch(size), pattern === 'group');
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - wallBefore;
    await store.close();
    return { engine, pattern, cpu: (cpu.user + cpu.system) / written, system: cpu.system / written, wall: (wall * 1000) / written, megabytes: directoryBytes(directory) / 1e6 };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Installs the candidates this run needs into the scratch directory, once. */
function installCandidates(engines: readonly Engine[]): void {
  const wanted = engines.flatMap((engine) => (engine === 'sqlite' ? [] : [PACKAGES[engine]]));
  const missing = wanted.filter((spec) => !existsSync(join(SCRATCH, 'node_modules', spec.slice(0, spec.lastIndexOf('@')), 'package.json')));
  if (missing.length === 0) return;
  mkdirSync(SCRATCH, { recursive: true });
  console.log(`installing ${missing.join(', ')} into ${SCRATCH}`);
  execFileSync('npm', ['install', '--prefix', SCRATCH, '--no-save', '--no-audit', '--no-fund', ...missing], { stdio: 'inherit' });
}

function inChild(engine: Engine, pattern: Pattern, items: number, writes: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--child', engine, pattern, String(items), String(writes)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let answer: Measured | null = null;
    child.on('message', (message: Measured) => (answer = message));
    child.once('error', reject);
    child.once('exit', (code) => (answer ? resolve(answer) : reject(new Error(`${engine} ${pattern} stopped (exit code ${code})`))));
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [engine, pattern, items, writes] = process.argv.slice(3);
    process.send?.(await measure(engine as Engine, pattern as Pattern, Number(items), Number(writes)));
    return;
  }
  const { values } = parseArgs({
    options: { items: { type: 'string' }, writes: { type: 'string' }, rounds: { type: 'string' }, engines: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    console.log('node -r @swc-node/register tools/bench/scale/store-engines.ts [--items N=1000000] [--writes M=60000] [--rounds R=2] [--engines sqlite,leveldb,lmdb]');
    return;
  }
  const count = (value: string | undefined, name: string, fallback: number): number => {
    const parsed = value === undefined ? fallback : Number(value.replace(/[_,]/g, ''));
    if (!Number.isSafeInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
    return parsed;
  };
  const items = count(values.items, 'items', 1_000_000);
  const writes = count(values.writes, 'writes', 60_000);
  const rounds = count(values.rounds, 'rounds', 2);
  const engines = (values.engines ?? ENGINES.join(',')).split(',').map((name) => name.trim()) as Engine[];
  for (const engine of engines) if (!ENGINES.includes(engine)) throw new Error(`unknown engine ${engine}; one of ${ENGINES.join(', ')}`);
  installCandidates(engines);
  console.log(`${writes} records after ${items}, ${rounds} rounds (engines in turns, the order reversed every other round); load average ${loadavg()[0]?.toFixed(2)}`);
  const results: Measured[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const pattern of Object.keys(PATTERNS) as Pattern[]) {
      for (const engine of round % 2 === 0 ? engines : [...engines].reverse()) {
        const result = await inChild(engine, pattern, items, writes);
        results.push(result);
        console.log(`  round ${round + 1} ${pattern} ${engine}: ${result.cpu.toFixed(1)} µs CPU a record (kernel ${result.system.toFixed(1)}), ${result.wall.toFixed(1)} µs wall; load average ${loadavg()[0]?.toFixed(2)}`);
      }
    }
  }
  console.log('\n| commits | store | CPU a record, all threads (median) | of which kernel | wall a record | files |\n|---|---|---|---|---|---|');
  for (const pattern of Object.keys(PATTERNS) as Pattern[]) {
    for (const engine of engines) {
      const runs = results.filter((result) => result.engine === engine && result.pattern === pattern);
      console.log(
        `| ${pattern} (${PATTERNS[pattern]} a commit) | ${engine === 'sqlite' ? 'better-sqlite3' : PACKAGES[engine]} | ${median(runs.map((run) => run.cpu)).toFixed(1)} µs | ${median(runs.map((run) => run.system)).toFixed(1)} µs | ${median(runs.map((run) => run.wall)).toFixed(1)} µs | ${median(runs.map((run) => run.megabytes)).toFixed(0)} MB |`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
