/** A stream's state after one of its events, as an archive keeps it. */
export interface ArchivedSnapshot {
  readonly state: unknown;
  /** Stream revision of the event the state is after. */
  readonly revision: number;
  /** Its global position. */
  readonly position: number;
}

/**
 * Where the catalog history's stream snapshots outlive the process (the port; `SqliteSnapshotArchive`
 * in `@flagline/state-store-sqlite` keeps them in a file). Writes are behind: `put` only enqueues,
 * a batch is written later (or at `flush`); reads see what was put, written or not. A stream's
 * revisions and positions grow together, so "at or before a position" is one ordered lookup.
 */
export interface SnapshotArchive {
  /** Enqueues a snapshot (cheap: no I/O on the caller's path). One already kept for that revision is left as it is. */
  put(streamName: string, snapshot: ArchivedSnapshot): void;
  /** The latest snapshot of the stream at or before `position`, if its revision is over `overRevision` (none is decoded otherwise). */
  latestAt(streamName: string, position: number, overRevision?: number): ArchivedSnapshot | undefined;
  /** The revision and position of the earliest snapshot of the stream after `position` (no state decoded). */
  firstAfter(streamName: string, position: number): { readonly revision: number; readonly position: number } | undefined;
  /** Drops every snapshot of the stream, written or queued (an erased identity's: they hold its personal data). */
  forget(streamName: string): void;
  /** Writes what is queued. */
  flush(): void;
  /** After an erasure: leaves no copy of a forgotten snapshot's bytes anywhere the archive wrote (a journal, freed pages). */
  scrub(): void;
  close(): void;
}

/** The archive in memory (tests, and a process with no data directory): the same contract, gone at exit. */
export class InMemorySnapshotArchive implements SnapshotArchive {
  private readonly byStream = new Map<string, ArchivedSnapshot[]>();

  put(streamName: string, snapshot: ArchivedSnapshot): void {
    const list = this.byStream.get(streamName) ?? [];
    let index = list.length;
    while (index > 0 && (list[index - 1] as ArchivedSnapshot).revision > snapshot.revision) index--;
    if (list[index - 1]?.revision === snapshot.revision) return;
    list.splice(index, 0, { state: snapshot.state, revision: snapshot.revision, position: snapshot.position });
    this.byStream.set(streamName, list);
  }

  latestAt(streamName: string, position: number, overRevision = -1): ArchivedSnapshot | undefined {
    let found: ArchivedSnapshot | undefined;
    for (const snapshot of this.byStream.get(streamName) ?? []) {
      if (snapshot.position > position) break;
      found = snapshot;
    }
    return found && found.revision > overRevision ? found : undefined;
  }

  firstAfter(streamName: string, position: number): { readonly revision: number; readonly position: number } | undefined {
    const found = (this.byStream.get(streamName) ?? []).find((snapshot) => snapshot.position > position);
    return found ? { revision: found.revision, position: found.position } : undefined;
  }

  forget(streamName: string): void {
    this.byStream.delete(streamName);
  }

  flush(): void {
    // Nothing is behind: every put is kept at once.
  }

  scrub(): void {
    // Nothing was written anywhere.
  }

  close(): void {
    this.byStream.clear();
  }
}
