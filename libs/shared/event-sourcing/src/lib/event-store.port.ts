import type { NewEvent, RecordedEvent } from './event';

/**
 * What an append expects of the stream: a concrete revision (the 0-based revision of its last
 * event), that it does not exist yet, that it exists, or anything.
 */
export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

export interface AppendOptions {
  readonly expectedRevision?: ExpectedRevision;
  /**
   * Every event id of the batch was made for this append and never given out before (derived
   * from a command id generated for the call), so no retry can carry them: a store may skip
   * looking them up for a retried append, and need not keep them for recognising one. A later
   * append reusing such an id is not recognised as a retry. Never set it for ids a client chose
   * or may send again (an Idempotency-Key).
   */
  readonly freshIds?: boolean;
}

export interface AppendResult {
  /** Revision of the last event now in the stream. */
  readonly nextExpectedRevision: number;
  /** Global position of the last appended event. */
  readonly position: number;
}

export interface ReadStreamOptions {
  /** First revision to return (inclusive). */
  readonly fromRevision?: number;
  readonly maxCount?: number;
}

export interface ReadStreamResult {
  /** Revision of the stream's last event, or null when the stream does not exist. */
  readonly currentRevision: number | null;
  readonly events: readonly RecordedEvent[];
}

export interface ReadAllOptions {
  /** Return events strictly after this global position; omit to read from the start. */
  readonly after?: number;
  readonly maxCount?: number;
}

export interface SubscribeOptions {
  /** Deliver events strictly after this global position; omit to start at the beginning. */
  readonly after?: number;
}

export type SubscriptionHandler = (event: RecordedEvent) => Promise<void> | void;

export interface Subscription {
  /** Settles when the subscription has delivered everything stored when it started. */
  readonly caughtUp: Promise<void>;
  /** Settles when the subscription stops: resolved on `stop()`, rejected when its handler throws or the store fails. */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The event-store port. Adapters: in-memory (tests), embedded durable file log (standalone),
 * EventStoreDB (distributed). All pass the same contract suite (`describeEventStoreContract`).
 */
export interface EventStore {
  /**
   * Appends atomically. Fails with `ConcurrencyError` when the expected revision does not hold.
   * Appending a batch whose event ids are already stored, at the same place, acknowledges
   * the earlier append and writes nothing.
   */
  appendToStream(streamName: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  readStream(streamName: string, options?: ReadStreamOptions): Promise<ReadStreamResult>;
  /** Events of every stream in global order. */
  readAll(options?: ReadAllOptions): Promise<readonly RecordedEvent[]>;
  /** Catch-up subscription: stored events first, then live ones, each exactly once and in order. */
  subscribeToAll(options: SubscribeOptions, handler: SubscriptionHandler): Subscription;
  /** Global position of the last stored event, or 0 when the log is empty. */
  headPosition(): Promise<number>;
  close(): Promise<void>;
}

/** The stream was not at the expected revision. */
export class ConcurrencyError extends Error {
  override readonly name = 'ConcurrencyError';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | null,
  ) {
    super(`Stream ${streamName} expected at revision ${String(expected)} but is at ${actual === null ? 'no stream' : actual}`);
  }
}

/** An append reused an event id in a way that is not a retry of the same append. */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  constructor(readonly eventId: string) {
    super(`Event id ${eventId} is already stored elsewhere`);
  }
}
