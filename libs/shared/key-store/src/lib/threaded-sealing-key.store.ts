import type { SealingKey, SealingKeyStore } from '@flagline/event-sealing';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { asSealingKey, type KeyMessage, type KeyWriterReply, type KeyWriterRequest } from './key-writer.messages';
import { SqliteSealingKeyStore, type CommittedKey } from './sqlite-sealing-key.store';

const WORKER_SCRIPT = join(__dirname, `key-writer.worker${extname(__filename)}`);
/** From the sources (tests, `node -r @swc-node/register`), the thread compiles them as this one does. */
const WORKER_OPTIONS = extname(__filename) === '.ts' ? { execArgv: [...process.execArgv, '-r', '@swc-node/register'] } : {};

interface Waiting {
  readonly reply: (message: KeyWriterReply) => void;
  readonly fail: (error: Error) => void;
}

interface PendingCommit {
  readonly owner: string;
  readonly candidate: SealingKey;
  readonly resolve: (committed: CommittedKey) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The sealing keys of `SqliteSealingKeyStore`, written by a worker thread (key-writer.worker.ts):
 * the keys asked for in a turn of the event loop go to it as one message, and it commits them in
 * one transaction and makes them durable with one `fdatasync` of the WAL, answering once committed
 * (the caller's append may proceed) and once durable (it may be acknowledged), as the store does
 * on one thread. The SQLite work of every new identity's key leaves the event loop. Reads are
 * answered here, from this thread's own connection to the file and from the keys the writer
 * reported (held until the writer has folded them into the file's index).
 */
export class ThreadedSealingKeyStore implements SealingKeyStore {
  private readonly worker: Worker;
  private readonly waiting = new Map<string, Waiting>();
  private batches = 0;
  private pending: PendingCommit[] = [];
  private scheduled = false;
  /** Keys committed whose durability is under way: `get` answers them once they are durable. */
  private readonly flushingKeys = new Map<string, Promise<void>>();
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly reader: SqliteSealingKeyStore,
    path: string,
  ) {
    this.worker = new Worker(WORKER_SCRIPT, { ...WORKER_OPTIONS, workerData: path });
    this.worker.on('message', (reply: KeyWriterReply) => {
      // A failure ends what is still awaited of its request: the commit, and the flush after it.
      const keys = reply.kind === 'failed' ? [String(reply.batch), `durable-${reply.batch}`] : [reply.kind === 'durable' ? `durable-${reply.batch}` : String(reply.batch)];
      for (const key of keys) {
        const waiter = this.waiting.get(key);
        this.waiting.delete(key);
        if (reply.kind === 'failed') waiter?.fail(new Error(`The sealing keys' writer thread: ${reply.message}`));
        else waiter?.reply(reply);
      }
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      for (const waiter of [...this.waiting.values()]) waiter.fail(error);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`The sealing keys' writer thread exited (code ${code})`)));
  }

  /** Opens the file here (made or migrated first, before the writer opens it) and starts its writer. */
  static open(path: string): ThreadedSealingKeyStore {
    return new ThreadedSealingKeyStore(SqliteSealingKeyStore.open(path), path);
  }

  /** Synchronous read of a key (see `SqliteSealingKeyStore.getNow`). */
  getNow(owner: string): SealingKey | undefined {
    return this.reader.getNow(owner);
  }

  keysInOrder(after: number, limit: number): ReturnType<SqliteSealingKeyStore['keysInOrder']> {
    return this.reader.keysInOrder(after, limit);
  }

  async get(owner: string): Promise<SealingKey | undefined> {
    const durable = this.flushingKeys.get(owner);
    if (durable) await durable;
    return this.reader.getNow(owner);
  }

  async ensure(owner: string, candidate: SealingKey): Promise<SealingKey> {
    const { key, durable } = await this.commit(owner, candidate);
    await durable;
    return key;
  }

  commit(owner: string, candidate: SealingKey): Promise<CommittedKey> {
    if (this.closing) return Promise.reject(new Error('The key store is closed'));
    return new Promise<CommittedKey>((resolve, reject) => {
      this.pending.push({ owner, candidate, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // The keys asked for in this turn of the event loop go to the writer together.
        setImmediate(() => this.send());
      }
    });
  }

  private send(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const number = ++this.batches;
    const durable = new Promise<void>((resolve, reject) => {
      this.waiting.set(`durable-${number}`, { reply: () => resolve(), fail: reject });
    });
    // Each caller is handed the flush; one that is not awaited must not be reported as unhandled.
    durable.catch(() => undefined);
    for (const { owner } of batch) this.flushingKeys.set(owner, durable);
    void durable
      .catch(() => undefined)
      .then(() => {
        for (const { owner } of batch) if (this.flushingKeys.get(owner) === durable) this.flushingKeys.delete(owner);
      });
    const keys: KeyMessage[] = batch.map(({ owner, candidate }) => ({ owner, id: candidate.id, key: candidate.key }));
    this.ask({ kind: 'commit', batch: number, keys }).then(
      (reply) => {
        if (reply.kind !== 'committed') throw new Error(`The sealing keys' writer thread answered ${reply.kind} to a commit`);
        const kept = reply.kept.map((message) => ({ owner: message.owner, key: asSealingKey(message), row: message.row }));
        this.reader.adoptWritten(kept, reply.foldedUpTo);
        batch.forEach((entry, index) => entry.resolve({ key: (kept[index] as { key: SealingKey }).key, durable }));
      },
      (error: unknown) => {
        for (const { owner } of batch) if (this.flushingKeys.get(owner) === durable) this.flushingKeys.delete(owner);
        for (const entry of batch) entry.reject(error);
      },
    );
  }

  private ask(request: KeyWriterRequest): Promise<KeyWriterReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(String(request.batch), { reply: resolve, fail: reject });
      this.worker.postMessage(request);
    });
  }

  async destroy(owner: string): Promise<boolean> {
    // A key being committed is destroyed after it.
    await this.flushingKeys.get(owner)?.catch(() => undefined);
    const reply = await this.ask({ kind: 'destroy', batch: ++this.batches, owner });
    this.reader.forget(owner);
    if (reply.kind !== 'destroyed') throw new Error(`The sealing keys' writer thread answered ${reply.kind} to a destroy`);
    return reply.deleted;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.scheduled) this.send();
      await Promise.all([...this.flushingKeys.values()].map((durable) => durable.catch(() => undefined)));
      await this.ask({ kind: 'close', batch: ++this.batches }).catch(() => undefined);
      await this.worker.terminate();
      await this.reader.close();
    })();
    return this.closing;
  }
}
