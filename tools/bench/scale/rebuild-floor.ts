import Database from 'better-sqlite3';
import { IDENTITY_SEALING, identityIdFor, toIdentityStreamName } from '@flagline/admin-domain';
import { newSealingKey, openSealedBox, sealEvent, type SealedBox } from '@flagline/event-sealing';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { scaleIdentity } from './identities';
import { median } from './report';
import { threadCpuSeconds } from '../../../apps/standalone/src/rebuild-parts';

const HELP = `The floor of a rebuild: the least work that derives an identity's read-model document and
its admin-catalog rows from a log of sealed IdentityCreated events, on this machine's cores.

  node -r @swc-node/register tools/bench/scale/rebuild-floor.ts [--events N] [--rounds R] [--json]

It writes a log of N events (default 1,000,000; not timed): one JSON line each, its personal data
sealed with a key of its own (AES-256-GCM), the keys in a file of 32-byte slots in log order. Then,
timed, as the app's rebuild is laid out: the main thread reads the log in 4-MiB chunks, opens each
event with its key and hands lots of 128 opened records to two worker threads, one writing the
documents (the read models' table), one the catalog's rows as the app lays them out for an
identity event (its state, indexed by a hash of its id; its identifier; its audit entry, under
its project in log order; identity events get no event-id row), each into a fresh SQLite file with no journal and no syncs, in
transactions of 1,000 events. Then, untimed, checks that both files hold a row of each kind for
every event and the last identity's document its traits. Prints events/s and each thread's CPU
per event (medians of R rounds, default 2); with --json, last, one JSON line of those medians
(bench:scale's scenario 6).`;

interface Job {
  readonly part: 'documents' | 'catalog';
  readonly path: string;
}

type Message = { readonly kind: 'lot'; readonly records: string } | { readonly kind: 'end' };

/** This thread's CPU so far, in ms (the app's rebuild reads its own threads' the same way). */
const threadCpuMs = (): number => (threadCpuSeconds() ?? Number.NaN) * 1000;

/** An opened event as the workers take it: the record's fields, its sealed data opened in place. */
interface Opened {
  readonly id: string;
  readonly stream: string;
  readonly position: number;
  readonly type: string;
  readonly data: { readonly identityId: string; readonly environmentId: number; readonly identifier: string; readonly createdAt: string; readonly traits: Record<string, unknown> };
}

function runWorker(job: Job): void {
  const db = new Database(job.path);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -65536');
  let apply: (event: Opened) => void;
  if (job.part === 'documents') {
    db.exec('CREATE TABLE documents (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
    const put = db.prepare<[string, string]>('INSERT OR REPLACE INTO documents (key, value) VALUES (?, ?)');
    apply = (event) => {
      const { identityId, environmentId, identifier, traits, createdAt } = event.data;
      const document = { identifier, identityUuid: identityId, createdDate: createdAt, traits: Object.entries(traits).map(([key, value]) => ({ key, value })), overrides: [] };
      put.run(`identity:${environmentId}:${identifier}`, JSON.stringify(document));
    };
  } else {
    db.exec(`CREATE TABLE identity (id_key INTEGER NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL, state TEXT NOT NULL);
      CREATE INDEX identity_by_key ON identity (id_key);
      CREATE TABLE identifier (environment INTEGER NOT NULL, identifier TEXT NOT NULL, deleted INTEGER, PRIMARY KEY (environment, identifier)) WITHOUT ROWID;
      CREATE TABLE audit (entity TEXT NOT NULL, position INTEGER NOT NULL, type TEXT NOT NULL, stream TEXT NOT NULL, revision INTEGER NOT NULL, PRIMARY KEY (entity, position)) WITHOUT ROWID;`);
    const identity = db.prepare<[number, string, number, string]>('INSERT INTO identity (id_key, id, revision, state) VALUES (?, ?, ?, ?)');
    const identifier = db.prepare<[number, string]>('INSERT OR REPLACE INTO identifier (environment, identifier, deleted) VALUES (?, ?, NULL)');
    const audit = db.prepare<[string, number, string, string]>('INSERT INTO audit (entity, position, type, stream, revision) VALUES (?, ?, ?, ?, 0)');
    apply = (event) => {
      const { identityId, environmentId, identifier: name } = event.data;
      identity.run(parseInt(identityId.slice(0, 12), 16), identityId, 0, JSON.stringify({ status: 'active', ...event.data }));
      identifier.run(environmentId, name);
      // Under the project, in log order (as the app's audit index lists a project's identity events).
      audit.run('project:1', event.position, event.type, event.stream);
    };
  }
  const cpuAtStart = threadCpuMs();
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  let inTransaction = 0;
  parentPort?.on('message', (message: Message) => {
    if (message.kind === 'end') {
      if (inTransaction > 0) commit.run();
      db.close();
      parentPort?.postMessage({ cpuMs: threadCpuMs() - cpuAtStart });
      parentPort?.close();
      return;
    }
    for (const line of message.records.split('\n')) {
      if (inTransaction === 0) begin.run();
      apply(JSON.parse(line) as Opened);
      if (++inTransaction === 1_000) {
        commit.run();
        inTransaction = 0;
      }
    }
    parentPort?.postMessage({ applied: true });
  });
  parentPort?.postMessage({ ready: true });
}

/** Writes the log and the key slots of `events` identity events (not timed). */
function writeLog(directory: string, events: number): void {
  const log = openSync(join(directory, 'events.log'), 'w');
  const keys = openSync(join(directory, 'key-slots'), 'w');
  const lines: string[] = [];
  const keyBytes: Buffer[] = [];
  const createdAt = new Date().toISOString();
  const metadata = { actor: { kind: 'system' as const, id: 'rebuild-floor' }, occurredAt: createdAt, correlationId: randomUUID() };
  for (let index = 0; index < events; index++) {
    const { identifier, traits } = scaleIdentity('scale-', index);
    const identityId = identityIdFor(1, identifier);
    const stream = toIdentityStreamName(identityId);
    // Sealed as the app seals it: the personal fields only in the box, under a key of the identity's own.
    const key = newSealingKey();
    const sealed = sealEvent({ id: randomUUID(), type: 'IdentityCreated', data: { identityId, environmentId: 1, createdAt, identifier, traits }, metadata }, stream, key, IDENTITY_SEALING);
    lines.push(JSON.stringify({ id: sealed.id, stream, position: index + 1, type: sealed.type, data: sealed.data }));
    keyBytes.push(key.key);
    if (lines.length === 10_000 || index === events - 1) {
      writeSync(log, `${lines.join('\n')}\n`);
      writeSync(keys, Buffer.concat(keyBytes));
      lines.length = 0;
      keyBytes.length = 0;
    }
  }
  closeSync(log);
  closeSync(keys);
}

interface Sealed {
  readonly id: string;
  readonly stream: string;
  readonly position: number;
  readonly type: string;
  readonly data: { readonly sealed: SealedBox };
}

/** One timed rebuild: events/s and each thread's CPU per event. */
async function rebuild(directory: string, events: number): Promise<{ rate: number; main: number; documents: number; catalog: number }> {
  // The workers are started, their modules loaded and their files made, before the clock starts.
  const workers = (['documents', 'catalog'] as const).map((part) => {
    const path = join(directory, `${part}.sqlite`);
    rmSync(path, { force: true });
    const worker = new Worker(__filename, { workerData: { part, path } satisfies Job, execArgv: process.execArgv });
    let inFlight = 0;
    let wake: (() => void) | null = null;
    let done: ((cpuMs: number) => void) | null = null;
    const finished = new Promise<number>((resolveDone) => (done = resolveDone));
    let isReady: (() => void) | null = null;
    const ready = new Promise<void>((resolveReady) => (isReady = resolveReady));
    worker.once('error', (error) => {
      throw error;
    });
    worker.on('message', (message: { applied?: boolean; cpuMs?: number; ready?: boolean }) => {
      if (message.ready) isReady?.();
      else if (message.applied) {
        inFlight--;
        wake?.();
        wake = null;
      } else if (message.cpuMs !== undefined) done?.(message.cpuMs);
    });
    return {
      async send(message: Message): Promise<void> {
        while (inFlight >= 32) await new Promise<void>((resolveWake) => (wake = resolveWake));
        if (message.kind === 'lot') inFlight++;
        worker.postMessage(message);
      },
      finished,
      ready,
    };
  });
  await Promise.all(workers.map((worker) => worker.ready));
  const started = process.hrtime.bigint();
  const mainBefore = threadCpuMs();
  const log = openSync(join(directory, 'events.log'), 'r');
  const keys = openSync(join(directory, 'key-slots'), 'r');
  const chunk = Buffer.allocUnsafe(4 << 20);
  const keyChunk = Buffer.allocUnsafe(32 * 128);
  let carry = '';
  let lot: string[] = [];
  const flushLot = async (): Promise<void> => {
    const records = lot.join('\n');
    lot = [];
    for (const worker of workers) await worker.send({ kind: 'lot', records });
  };
  let keyIndex = 0;
  let keysRead = 0;
  for (;;) {
    const read = readSync(log, chunk, 0, chunk.length, null);
    if (read === 0) break;
    const text = carry + chunk.toString('utf8', 0, read);
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      if (keyIndex === keysRead) {
        keysRead = readSync(keys, keyChunk, 0, keyChunk.length, null) / 32;
        keyIndex = 0;
      }
      const key = keyChunk.subarray(keyIndex * 32, keyIndex * 32 + 32);
      keyIndex++;
      const event = JSON.parse(line) as Sealed;
      // Opened as the app's rebuild opens a box; the whole data was sealed, so its text takes the box's place and the workers parse each record once.
      const opened = openSealedBox(event.stream, event.id, event.data.sealed, { id: event.data.sealed.kid, key });
      lot.push(`{"id":${JSON.stringify(event.id)},"stream":${JSON.stringify(event.stream)},"position":${event.position},"type":${JSON.stringify(event.type)},"data":${opened}}`);
      if (lot.length === 128) await flushLot();
    }
  }
  if (lot.length > 0) await flushLot();
  closeSync(log);
  closeSync(keys);
  for (const worker of workers) await worker.send({ kind: 'end' });
  const [documents, catalog] = await Promise.all(workers.map((worker) => worker.finished));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const perEvent = (ms: number): number => (ms * 1000) / events;
  checkRebuilt(directory, events);
  return { rate: events / seconds, main: perEvent(threadCpuMs() - mainBefore), documents: perEvent(documents as number), catalog: perEvent(catalog as number) };
}

/**
 * After the clock: the files hold a document, a state, an identifier and an audit entry for every
 * event, and the last identity's document has the identifier and traits it was sealed with.
 */
function checkRebuilt(directory: string, events: number): void {
  const documents = new Database(join(directory, 'documents.sqlite'), { readonly: true });
  const catalog = new Database(join(directory, 'catalog.sqlite'), { readonly: true });
  try {
    const count = (db: Database.Database, table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    const counts = { documents: count(documents, 'documents'), identity: count(catalog, 'identity'), identifier: count(catalog, 'identifier'), audit: count(catalog, 'audit') };
    for (const [table, rows] of Object.entries(counts)) if (rows !== events) throw new Error(`the floor's ${table} holds ${rows} rows, not ${events}`);
    const last = scaleIdentity('scale-', events - 1);
    const row = documents.prepare('SELECT value FROM documents WHERE key = ?').get(`identity:1:${last.identifier}`) as { value: string } | undefined;
    const document = row ? (JSON.parse(row.value) as { identifier: string; traits: { key: string; value: unknown }[] }) : undefined;
    const traits = Object.fromEntries((document?.traits ?? []).map(({ key, value }) => [key, value]));
    if (document?.identifier !== last.identifier || JSON.stringify(traits) !== JSON.stringify(last.traits)) throw new Error(`the floor's document of ${last.identifier} is ${row?.value ?? 'missing'}`);
  } finally {
    documents.close();
    catalog.close();
  }
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} needs a positive integer`);
  return value;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log(HELP);
    return;
  }
  const events = option('--events', 1_000_000);
  const rounds = option('--rounds', 2);
  const directory = mkdtempSync(join(tmpdir(), 'flagline-rebuild-floor-'));
  try {
    writeLog(directory, events);
    const runs: Awaited<ReturnType<typeof rebuild>>[] = [];
    for (let round = 0; round < rounds; round++) {
      const run = await rebuild(directory, events);
      runs.push(run);
      console.log(`round ${round + 1}: ${Math.round(run.rate).toLocaleString('en')} events/s; CPU per event: main ${run.main.toFixed(1)} µs, documents ${run.documents.toFixed(1)} µs, catalog ${run.catalog.toFixed(1)} µs`);
    }
    const middle = (pick: (run: Awaited<ReturnType<typeof rebuild>>) => number): number => median(runs.map(pick));
    if (process.argv.includes('--json')) {
      console.log(JSON.stringify({ events, eventsPerSecond: middle((run) => run.rate), mainMicros: middle((run) => run.main), documentsMicros: middle((run) => run.documents), catalogMicros: middle((run) => run.catalog) }));
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else runWorker(workerData as Job);
