/** The store was closed; it accepts nothing more. */
export class EventStoreClosedError extends Error {
  override readonly name = 'EventStoreClosedError';
  constructor() {
    super('The embedded event store is closed');
  }
}

/** A record with a valid checksum contradicts the ones before it: a bug or a foreign edit, never a crash. */
export class EventLogCorruptedError extends Error {
  override readonly name = 'EventLogCorruptedError';
}

/** Appends go to the writer process; a follower only reads. */
export class EventStoreReadOnlyError extends Error {
  override readonly name = 'EventStoreReadOnlyError';
  constructor(directory: string) {
    super(`The event log in ${directory} is open as a read-only follower; append through the process that opened it for writing`);
  }
}

/**
 * The followed log no longer holds what the follower already served: it was removed, replaced by
 * another file, or shrank below a record already served. Crashes and torn-tail cuts never do
 * that, so the follower stops rather than serve a different history under the same positions.
 */
export class EventLogReplacedError extends Error {
  override readonly name = 'EventLogReplacedError';
}
