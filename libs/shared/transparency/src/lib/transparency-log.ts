import { canonicalEventBytes, ProgressTracker, type CanonicalEventFields, type EventStore, type RecordedEvent, type Subscription } from '@flagline/event-sourcing';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { hashLeaf } from './merkle';
import { consistencyProof, inclusionProof, nodesForAppend, treeRoot } from './merkle-tree';
import { signTreeHead, type SignedTreeHead } from './signed-tree-head';
import type { TransparencyTreeStore, TreeLeaf } from './tree-store.port';

/** The leaf hash of an event as stored (or of an export line carrying its fields): SHA-256(0x00 || canonicalEventBytes). */
export function eventLeafHash(event: RecordedEvent | CanonicalEventFields): Buffer {
  return hashLeaf(canonicalEventBytes(event));
}

/** Where the log no longer matches the leaves the tree holds: the first such place. */
export interface LogMismatch {
  /** changed: the event at the leaf's place has other bytes; replaced: another event is there (dropped, reordered or inserted); missing: the log ends before it (truncated). */
  readonly kind: 'changed' | 'replaced' | 'missing';
  readonly leafIndex: number;
  /** The position the tree recorded for the leaf. */
  readonly position: number;
  /** The event the tree recorded there. */
  readonly eventId: string;
  /** The event the log holds there now, when it holds one. */
  readonly foundEventId?: string;
  readonly message: string;
}

/** A tree head was asked of a log that does not match its tree. */
export class LogMismatchError extends Error {
  override readonly name = 'LogMismatchError';
  constructor(readonly mismatch: LogMismatch) {
    super(`The event log does not match its Merkle tree; no tree head is signed over it: ${mismatch.message}`);
  }
}

/** A proof's sizes or leaf are outside the tree as it is. */
export class TreeRangeError extends Error {
  override readonly name = 'TreeRangeError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** An earlier size of the tree for which no head was signed when the tree had it (none is signed after the fact). */
export class TreeHeadNotSignedError extends Error {
  override readonly name = 'TreeHeadNotSignedError';
  constructor(
    readonly treeSize: number,
    readonly currentSize: number,
  ) {
    super(`No tree head was signed when the tree held ${treeSize} leaves; heads are signed for the tree as it is (${currentSize} leaves: omit treeSize) and kept`);
  }
}

export interface InclusionProofView {
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly position: number;
  readonly leafHash: string;
  readonly auditPath: string[];
}

export interface ConsistencyProofView {
  readonly first: number;
  readonly second: number;
  readonly proof: string[];
}

export interface TransparencyLogOptions {
  /** The Ed25519 private key tree heads are signed with. */
  readonly signingKey: KeyObject;
  /** Milliseconds since the epoch (tests pass their own). */
  readonly clock?: () => number;
  /** Leaves written to the store per transaction while following, and events read per page while checking. */
  readonly batchSize?: number;
  /** Longest a followed event waits for others to share its batch, in ms (0: the next turn of the event loop). */
  readonly flushDelayMs?: number;
  /**
   * With a `leafWriter`: how long events wait for the next write once the last one covered at
   * least {@link BUSY_WRITE_LEAVES} events (the log is busy), in ms. Fewer, larger writes: each is a
   * message each way, a read of the log file and a transaction on the writer's thread, and a
   * read-back of the tree here.
   */
  readonly busyFlushDelayMs?: number;
  /** How long the follower waits before subscribing again after its subscription failed, in ms. */
  readonly resubscribeDelayMs?: number;
  readonly onMismatch?: (mismatch: LogMismatch) => void;
  readonly onError?: (error: unknown) => void;
  /**
   * Leaves hashed and written elsewhere (a worker thread reading the log file): the follower then
   * only tells the writer how far the log is and learns back how far the tree is, and the tree
   * store is `refresh`ed. Made when following starts, with the position of the tree's last leaf,
   * and a callback the writer calls with that position after each transaction it commits (a write
   * of many leaves is seen slice by slice, not only when it is whole).
   * Without it, leaves are hashed and written on this thread.
   */
  readonly leafWriter?: (after: number, progress: (position: number) => void) => LeafWriter;
  /**
   * The start-up check run elsewhere (a worker thread reading the tree's and the log's files), so
   * that comparing every leaf with its event, minutes over a long log, takes nothing from the event
   * loop. Without it, the check runs on this thread a page at a time between other work.
   */
  readonly logChecker?: LogChecker;
}

/** Compares the tree with the log somewhere else (see `TransparencyLogOptions.logChecker`). */
export interface LogChecker {
  /**
   * Compares the tree's first `treeSize` leaves, in order, with the log's events from its first,
   * the log ending at position `logHead`; `progress` is told how many leaves matched so far.
   * Resolves with the first mismatch or null; rejects when it could not read the tree or the log.
   */
  check(treeSize: number, logHead: number, progress: (checked: number) => void): Promise<LogMismatch | null>;
  /** Ends a check under way, which then resolves with null. */
  stop(): Promise<void>;
}

/** Appends the log's events as leaves of the tree somewhere else (see `TransparencyLogOptions.leafWriter`). */
export interface LeafWriter {
  /** Makes every event up to `position` a leaf (whole records: perhaps a few more); resolves with the position of the tree's last leaf once written. */
  writeTo(position: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Events per batch: each batch is hashed and written in one turn of the event loop, beside the
 * requests the process serves, so it stays short (about 200 x 30 us = 6 ms at most).
 */
const DEFAULT_BATCH = 200;
/**
 * How long a followed event may wait for others to join its batch. Each write of the tree is one
 * SQLite transaction that rewrites the last pages of the leaves, their index and every level of
 * nodes, however few leaves it adds: at 2,000 events/s, batches made each turn of the event loop
 * held a handful of events and the tree cost about 30 us of CPU per event, against 14 us in batches
 * of 200 (tools' SqliteTreeStore measurements). Leaves still follow the log within this delay.
 */
const DEFAULT_FLUSH_DELAY_MS = 20;
/**
 * The batching delay of a leaf writer's writes while the log is busy (see `busyFlushDelayMs`).
 * With the worker thread at 3,300 to 3,500 new identities a second (identify.ts --threads, in
 * turns): its thread 25-26 -> 19-20 µs of CPU per new identity, the event loop's about 9 µs less.
 */
const DEFAULT_BUSY_FLUSH_DELAY_MS = 200;
/** A leaf writer's write covering at least this many events means the log is busy: the next waits `busyFlushDelayMs`. */
export const BUSY_WRITE_LEAVES = 50;
/** Wait before subscribing again after the subscription failed (a dropped connection), and before checking again after the check failed. */
const DEFAULT_RESUBSCRIBE_DELAY_MS = 500;
/** Most leaves compared per page of the start-up check, then the check yields to the event loop. */
const CHECK_PAGE = 500;
/**
 * The start-up check's share of a turn of the event loop, ms: pages are sized to take about this
 * long. A page of 500 leaves took 40 to 65 ms over a sealed log (reading and decoding each event),
 * and every request that arrived meanwhile waited for it: a stored identify's p99 after a restart
 * was the page's length until the check was done (minutes over 1,000,000 events).
 */
const CHECK_TURN_MS = 1;
const MIN_CHECK_PAGE = 4;

/**
 * The log's Merkle tree, kept behind the writes: at start it checks that the log still holds, at
 * each leaf, the event the tree recorded there (reading the log as stored, never upcast), then
 * follows the log and appends every new event as a leaf, in log order, in batches. It signs tree
 * heads only over a log that matched, and answers inclusion and consistency proofs.
 */
export class TransparencyLog {
  /** Global position of the last event the tree holds. */
  readonly progress = new ProgressTracker();
  readonly publicKey: KeyObject;
  /** SHA-256 of the raw public key, hex: which key signed a stored tree head. */
  readonly keyId: string;
  private mismatchFound: LogMismatch | null = null;
  private subscription: Subscription | null = null;
  private pending: RecordedEvent[] = [];
  /** Global position of the last event queued: pending or already a leaf. */
  private queuedPosition = 0;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private writer: LeafWriter | null = null;
  /** The writer's write under way, or null: one at a time, each to the last position queued when it began. */
  private writing: Promise<void> | null = null;
  private checked: Promise<void> | null = null;
  private checkDone = false;
  private leavesChecked = 0;
  private stopped = false;
  private readonly batchSize: number;
  private readonly flushDelayMs: number;
  private readonly busyFlushDelayMs: number;
  /** The wait before a leaf writer's next write: `busyFlushDelayMs` after a write of many events, else `flushDelayMs`. */
  private writeDelayMs: number;
  private readonly resubscribeDelayMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly log: EventStore,
    private readonly tree: TransparencyTreeStore,
    private readonly options: TransparencyLogOptions,
  ) {
    this.publicKey = createPublicKey(options.signingKey);
    this.keyId = createHash('sha256').update(this.publicKey.export({ format: 'der', type: 'spki' })).digest('hex');
    this.batchSize = options.batchSize ?? DEFAULT_BATCH;
    this.flushDelayMs = options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
    this.busyFlushDelayMs = options.busyFlushDelayMs ?? DEFAULT_BUSY_FLUSH_DELAY_MS;
    this.writeDelayMs = this.flushDelayMs;
    this.resubscribeDelayMs = options.resubscribeDelayMs ?? DEFAULT_RESUBSCRIBE_DELAY_MS;
    this.clock = options.clock ?? Date.now;
    this.progress.advance(tree.leaf(tree.size - 1)?.position ?? 0);
  }

  /** The public key verifiers check tree heads with, PEM (SPKI). */
  get publicKeyPem(): string {
    return this.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }

  /** Leaves the tree holds. */
  get size(): number {
    return this.tree.size;
  }

  /** Where the start-up check is: leaves compared so far, of the leaves the tree held at start, and whether it is done. */
  get check(): { readonly done: boolean; readonly checked: number; readonly of: number } {
    return { done: this.checkDone, checked: this.checkDone ? this.tree.size : this.leavesChecked, of: this.tree.size };
  }

  /** The first place the log did not match the tree at start, or null. */
  get mismatch(): LogMismatch | null {
    return this.mismatchFound;
  }

  /**
   * Checks the log against the tree, then follows it. Resolves when the check is done and, when
   * the log matched, the follower is subscribed; `progress.waitFor(head)` waits for the leaves.
   */
  start(): Promise<void> {
    if (this.checked) return this.checked;
    const attempt = this.compareWithLog().then(
      (mismatch) => {
        this.checkDone = true;
        if (mismatch) {
          this.mismatchFound = mismatch;
          this.options.onMismatch?.(mismatch);
          return;
        }
        if (!this.stopped) this.follow();
      },
      (error: unknown) => {
        // The log could not be read (the store unreachable): the next start, or this retry, checks again.
        if (this.checked === attempt) this.checked = null;
        if (!this.stopped) {
          setTimeout(() => {
            if (!this.stopped) this.start().catch((again: unknown) => this.options.onError?.(again));
          }, this.resubscribeDelayMs).unref();
        }
        throw error;
      },
    );
    this.checked = attempt;
    return attempt;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.options.logChecker?.stop();
    await this.checked?.catch(() => undefined);
    await this.subscription?.stop();
    this.flush();
    if (this.writer) {
      // Every event delivered becomes a leaf before the writer goes.
      while (this.writing) await this.writing;
      if (this.queuedPosition > this.progress.position) await this.writeRemotely(this.writer);
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = null;
      await this.writer.close();
    }
  }

  /** Compares every leaf the tree holds with the event at its place in the log, page by page. */
  private async compareWithLog(): Promise<LogMismatch | null> {
    const checker = this.options.logChecker;
    if (checker) {
      const size = this.tree.size;
      const head = await this.log.headPosition();
      return this.stopped ? null : checker.check(size, head, (checked) => (this.leavesChecked = checked));
    }
    let after = 0;
    let page = MIN_CHECK_PAGE;
    for (let index = 0; index < this.tree.size && !this.stopped; ) {
      const startedAt = performance.now();
      const leaves = this.tree.leaves(index, Math.min(this.batchSize * 5, CHECK_PAGE, page));
      const events = await this.log.readAll({ after, maxCount: leaves.length });
      for (const [offset, leaf] of leaves.entries()) {
        const event = events[offset];
        const mismatch = compareLeaf(leaf, event);
        if (mismatch) return mismatch;
        after = (event as RecordedEvent).globalPosition;
      }
      index += leaves.length;
      this.leavesChecked = index;
      // The next page sized from this one's pace, to take about CHECK_TURN_MS (at most doubling).
      const perLeaf = (performance.now() - startedAt) / Math.max(1, leaves.length);
      page = Math.max(MIN_CHECK_PAGE, Math.min(CHECK_PAGE, page * 2, Math.floor(CHECK_TURN_MS / Math.max(perLeaf, 1e-6))));
      // Yield between pages: the check runs beside requests, never in one long turn.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return null;
  }

  /**
   * Subscribes after the last position queued (held as a leaf or pending). When the subscription
   * fails (a dropped connection to the store), it subscribes again from there; an event delivered
   * again (at or below that position) is dropped, so none is lost and none becomes a second leaf.
   */
  private follow(): void {
    this.queuedPosition = Math.max(this.queuedPosition, this.progress.position);
    if (this.options.leafWriter) this.writer ??= this.options.leafWriter(this.progress.position, (position) => this.advanceTo(position));
    const subscription = this.log.subscribeToAll({ after: this.queuedPosition }, (event) => {
      if (event.globalPosition <= this.queuedPosition) return;
      this.queuedPosition = event.globalPosition;
      if (this.writer) {
        this.flushTimer ??= setTimeout(() => this.flush(), this.writeDelayMs);
        return;
      }
      this.pending.push(event);
      if (this.pending.length >= this.batchSize) this.flush();
      else this.flushTimer ??= setTimeout(() => this.flush(), this.flushDelayMs);
    });
    this.subscription = subscription;
    subscription.done.catch((error: unknown) => {
      if (this.stopped || this.subscription !== subscription) return;
      this.options.onError?.(error);
      setTimeout(() => {
        if (!this.stopped && this.subscription === subscription) this.follow();
      }, this.resubscribeDelayMs).unref();
    });
    subscription.caughtUp.catch(() => undefined);
  }

  /** Appends the pending events as leaves, with the subtree nodes they complete, in one write. */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.writer) {
      if (!this.writing && this.queuedPosition > this.progress.position) void this.writeRemotely(this.writer);
      return;
    }
    const events = this.pending;
    if (events.length === 0) return;
    this.pending = [];
    const size = this.tree.size;
    const leaves: TreeLeaf[] = events.map((event, offset) => ({ index: size + offset, position: event.globalPosition, eventId: event.id, hash: eventLeafHash(event) }));
    try {
      this.tree.append(
        leaves,
        nodesForAppend(
          this.tree,
          size,
          leaves.map((leaf) => leaf.hash),
        ),
      );
    } catch (error) {
      // Nothing was written (the append is atomic): keep the events and try again shortly.
      this.options.onError?.(error);
      this.pending = [...events, ...this.pending];
      if (!this.stopped) setTimeout(() => this.flush(), 1000).unref();
      return;
    }
    this.progress.advance((events[events.length - 1] as RecordedEvent).globalPosition);
  }

  /**
   * Asks the writer for the leaves up to the last position queued; once written, the store reads
   * the tree again and the progress moves. Events queued meanwhile go in the next write, after the
   * batching delay; a failed write is tried again shortly (nothing is lost: the writer reads the log).
   */
  private writeRemotely(writer: LeafWriter): Promise<void> {
    const from = this.progress.position;
    this.writing = writer.writeTo(this.queuedPosition).then(
      (position) => {
        this.advanceTo(position);
        this.writing = null;
        this.writeDelayMs = position - from >= BUSY_WRITE_LEAVES ? this.busyFlushDelayMs : this.flushDelayMs;
        // Events queued meanwhile wait for the next batch, as they would for the first: a write per
        // event arrived during the last one was a message, a transaction and a read-back each.
        if (!this.stopped && this.queuedPosition > position) this.flushTimer ??= setTimeout(() => this.flush(), this.writeDelayMs);
      },
      (error: unknown) => {
        this.options.onError?.(error);
        this.writing = null;
        if (!this.stopped) this.flushTimer ??= setTimeout(() => this.flush(), 1000);
      },
    );
    return this.writing;
  }

  /** The writer committed leaves up to `position`: the store reads the tree again, then the progress moves. */
  private advanceTo(position: number): void {
    this.tree.refresh?.();
    this.progress.advance(position);
  }

  /** Root hash of the first `treeSize` leaves, hex. */
  rootHash(treeSize: number): string {
    this.checkSize('treeSize', treeSize);
    return treeRoot(this.tree, treeSize).toString('hex');
  }

  /**
   * The signed tree head of the tree as it is, or of its first `treeSize` leaves. A head once signed
   * for a size is kept and answered again; only the tree's current size is signed anew (a head is
   * a statement of what the log held when it was signed: an earlier size is answered only with the
   * head signed then, `TreeHeadNotSignedError` otherwise). None is signed before the start's check
   * passed, or over a log that did not match.
   */
  async treeHead(treeSize?: number): Promise<SignedTreeHead> {
    await this.start();
    if (this.mismatchFound) throw new LogMismatchError(this.mismatchFound);
    const size = treeSize ?? this.tree.size;
    this.checkSize('treeSize', size);
    const kept = this.tree.signedHead(size, this.keyId);
    if (kept) return { treeSize: kept.treeSize, rootHash: kept.rootHash, timestamp: kept.timestamp, signature: kept.signature };
    if (size !== this.tree.size) throw new TreeHeadNotSignedError(size, this.tree.size);
    const head = signTreeHead(this.options.signingKey, size, treeRoot(this.tree, size), this.clock());
    this.tree.saveSignedHead({ ...head, keyId: this.keyId });
    return head;
  }

  /** The leaf of an event: by global position or by event id. */
  leafOf(reference: { position: number } | { eventId: string }): TreeLeaf | undefined {
    const index = 'position' in reference ? this.tree.leafIndexAtPosition(reference.position) : this.tree.leafIndexOfEvent(reference.eventId);
    return index === undefined ? undefined : this.tree.leaf(index);
  }

  inclusionProof(leafIndex: number, treeSize: number): InclusionProofView {
    this.checkSize('treeSize', treeSize);
    const leaf = this.tree.leaf(leafIndex);
    if (!leaf) throw new TreeRangeError('position', `The tree holds no leaf ${leafIndex}`);
    if (leafIndex >= treeSize) throw new TreeRangeError('treeSize', `Leaf ${leafIndex} (position ${leaf.position}) is not in a tree of ${treeSize} leaves; ask for a tree size above ${leafIndex}`);
    return {
      leafIndex,
      treeSize,
      position: leaf.position,
      leafHash: leaf.hash.toString('hex'),
      auditPath: inclusionProof(this.tree, leafIndex, treeSize).map((hash) => hash.toString('hex')),
    };
  }

  consistencyProof(first: number, second: number): ConsistencyProofView {
    this.checkSize('second', second);
    if (first > second) throw new TreeRangeError('first', `first (${first}) must not exceed second (${second})`);
    return { first, second, proof: consistencyProof(this.tree, first, second).map((hash) => hash.toString('hex')) };
  }

  private checkSize(field: string, size: number): void {
    if (!Number.isSafeInteger(size) || size < 0) throw new TreeRangeError(field, `${field} must be a non-negative integer`);
    if (size > this.tree.size) throw new TreeRangeError(field, `${field} ${size} exceeds the tree's ${this.tree.size} leaves`);
  }
}

/** How the event now at a leaf's place differs from what the tree recorded (`undefined`: the log ends before it), or null when it is the same. */
export function compareLeaf(leaf: TreeLeaf, event: RecordedEvent | undefined): LogMismatch | null {
  const at = `Leaf ${leaf.index} (position ${leaf.position}, event ${leaf.eventId})`;
  if (!event) return { kind: 'missing', leafIndex: leaf.index, position: leaf.position, eventId: leaf.eventId, message: `${at}: the log ends before it (truncated)` };
  const hash = eventLeafHash(event);
  if (hash.equals(leaf.hash) && event.globalPosition === leaf.position) return null;
  if (event.id === leaf.eventId) {
    const what = hash.equals(leaf.hash) ? `is now at position ${event.globalPosition}` : 'has other bytes than when it was added';
    return { kind: 'changed', leafIndex: leaf.index, position: leaf.position, eventId: leaf.eventId, foundEventId: event.id, message: `${at}: the event ${what}` };
  }
  return {
    kind: 'replaced',
    leafIndex: leaf.index,
    position: leaf.position,
    eventId: leaf.eventId,
    foundEventId: event.id,
    message: `${at}: the log holds event ${event.id} (position ${event.globalPosition}) there instead (dropped, reordered or inserted)`,
  };
}
