import { ConflictError, NotFoundError, ValidationError } from '@flagline/admin-domain';
import { canonicalEventFields, type CanonicalEventFields, type EventStore, type RecordedEvent } from '@flagline/event-sourcing';
import { LogMismatchError, TreeHeadNotSignedError, TreeRangeError, type ConsistencyProofView, type InclusionProofView, type SignedTreeHead, type TransparencyLog, type TreeLeaf } from '@flagline/transparency';
import type { AdminContext, RequestContext } from './admin-context';
import type { ExportService } from './export.service';

/** An inclusion proof with the event's canonical fields, so a verifier can hash the leaf itself. */
export interface InclusionProofAnswer extends InclusionProofView {
  readonly event: CanonicalEventFields;
}

/** How long a tree head waits for the start-up check before answering that it is still running. */
const CHECK_WAIT_MS = 3000;

/** How long an inclusion proof waits for a just-written event to reach the tree (by position or by event id). */
const LEAF_WAIT_MS = 2000;

/**
 * The tamper-evident log's answers: signed tree heads and consistency proofs to every authenticated
 * caller (they reveal sizes and hashes, nothing of the events), an inclusion proof only for an
 * event the caller may read (as exports decide it; every other is not found).
 */
export class TransparencyService {
  constructor(
    private readonly context: AdminContext,
    private readonly exports: ExportService,
  ) {}

  private get log(): TransparencyLog {
    const log = this.context.deps.transparency;
    if (!log) throw new NotFoundError('TRANSPARENCY.DISABLED', 'This instance keeps no Merkle tree of its log');
    return log;
  }

  /**
   * A signed tree head. None is signed before the start-up check has compared the log with the
   * tree: after a short wait, a check still running is a 409 saying how far it got (retry).
   */
  async treeHead(_request: RequestContext, treeSize?: number): Promise<SignedTreeHead> {
    const log = this.log;
    if (!log.check.done) {
      const started = log.start();
      const waited = await Promise.race([started.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), CHECK_WAIT_MS).unref())]);
      if (!waited) {
        const { checked, of } = log.check;
        throw new ConflictError('TRANSPARENCY.CHECKING', `The log is being compared with its Merkle tree since the start (${checked} of ${of} events); tree heads are signed once it is done: retry shortly`, { checked, of });
      }
    }
    return guard(() => log.treeHead(treeSize));
  }

  publicKey(_request: RequestContext): { publicKey: string; algorithm: 'Ed25519'; keyId: string } {
    return { publicKey: this.log.publicKeyPem, algorithm: 'Ed25519', keyId: this.log.keyId };
  }

  async inclusionProof(request: RequestContext, reference: { position: number } | { eventId: string }, treeSize?: number): Promise<InclusionProofAnswer> {
    const log = this.log;
    const notFound = () => new NotFoundError('EVENT.NOT_FOUND', 'position' in reference ? `No event at position ${reference.position}` : `Event ${reference.eventId} not found`);
    const leaf = await this.leafWhenWritten(log, reference);
    if (!leaf) throw notFound();
    const event = await this.storedEventAt(leaf.position);
    if (!event || event.id !== leaf.eventId || !this.exports.visibility(request.principal)(event)) throw notFound();
    const proof = await guard(() => Promise.resolve(log.inclusionProof(leaf.index, treeSize ?? log.size)));
    return { ...proof, event: canonicalEventFields(event) };
  }

  async consistencyProof(_request: RequestContext, first: number, second: number): Promise<ConsistencyProofView> {
    return guard(() => Promise.resolve(this.log.consistencyProof(first, second)));
  }

  /**
   * The event's leaf. A just-written event, or one the tree's writer has not reached yet while it
   * catches up on a long log, may not be a leaf of the tree as known: while the tree is behind the
   * log's head, each step it takes is looked at, for up to LEAF_WAIT_MS in all. By position, the
   * wait ends once the tree holds that position; by event id (whose position is not known), once
   * it holds the head as it was when asked.
   */
  private async leafWhenWritten(log: TransparencyLog, reference: { position: number } | { eventId: string }): Promise<TreeLeaf | undefined> {
    const head = await this.storedLog.headPosition();
    if ('position' in reference && reference.position > head) return log.leafOf(reference);
    const until = 'position' in reference ? reference.position : head;
    const deadline = Date.now() + LEAF_WAIT_MS;
    for (;;) {
      const leaf = log.leafOf(reference);
      const left = deadline - Date.now();
      if (leaf || log.progress.position >= until || left <= 0) return leaf;
      await log.progress.waitFor(log.progress.position + 1, left).catch(() => undefined);
    }
  }

  private get storedLog(): EventStore {
    return this.context.deps.storedLog ?? this.context.deps.store;
  }

  private async storedEventAt(position: number): Promise<RecordedEvent | undefined> {
    const [event] = await this.storedLog.readAll({ after: position - 1, maxCount: 1 });
    return event?.globalPosition === position ? event : undefined;
  }
}

/** The tree's errors as the API's: a size or leaf outside the tree is a 400 naming it, an earlier size no head was signed for a 404, a log that no longer matches its tree a 409. */
async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof TreeRangeError) throw new ValidationError('TRANSPARENCY.OUT_OF_RANGE', [{ field: error.field, message: error.message }]);
    if (error instanceof LogMismatchError) throw new ConflictError('TRANSPARENCY.LOG_MISMATCH', error.message, { mismatch: error.mismatch });
    if (error instanceof TreeHeadNotSignedError) throw new NotFoundError('TRANSPARENCY.HEAD_NOT_SIGNED', error.message);
    throw error;
  }
}
