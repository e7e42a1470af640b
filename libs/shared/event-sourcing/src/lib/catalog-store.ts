/**
 * Where the admin catalog keeps what grows with the data: identities (folded state and stream
 * revision), the identifiers of each environment, the audit index (entity -> positions) and the
 * event-id lookup; plus the few small folded states (users, organisations, projects and their
 * indexes) as snapshots. Everything is derived from the event log: `checkpoint` is the global
 * position the stored data covers, written in the same transaction as the data, so a restarted
 * process resumes by reading the log after it.
 *
 * Values (`state`) are structured-clone data (plain objects, arrays, Maps, Sets, primitives); the
 * adapter stores them as they are and gives back equal values. Reads are synchronous.
 */
export interface CatalogStore {
  /** Global position the stored data covers; 0 when empty. */
  checkpoint(): number;
  /** The event at the checkpoint (checked against the log at start), or null when empty. */
  checkpointEvent(): CatalogEventRef | null;
  /** Every small folded state, by key. */
  states(): [string, unknown][];
  identity(identityId: string): CatalogIdentityRecord | undefined;
  /**
   * Listed identifiers of an environment in code-point order, after `after`, keeping those containing
   * `search` (case-insensitive); with `deletedAfter`, also the tombstones of identities deleted after it.
   */
  identifiers(environmentId: number, options: IdentifierQuery): string[];
  /** Audit positions of an entity in log order, after `after`, of the given types only when given. */
  audit(entity: string, options: AuditQuery): CatalogAuditEntry[];
  /** Where a stored event is, by its id. */
  event(eventId: string): CatalogEventRef | undefined;
  /** Writes a batch and its checkpoint atomically: all of it or nothing. */
  write(batch: CatalogBatch): void;
  /** Forgets everything (checkpoint back to 0), to rebuild from the log. */
  reset(): void;
  close(): void;
}

export interface CatalogIdentityRecord {
  readonly revision: number;
  readonly state: unknown;
}

export interface CatalogIdentityRow extends CatalogIdentityRecord {
  readonly identityId: string;
  readonly environmentId: number;
  readonly identifier: string;
  /** Listed among its environment's identities; a deleted identity keeps its state but is not listed. */
  readonly listed: boolean;
  /**
   * Not listed: the log position of its deletion, kept in the identifier index as a tombstone (for
   * reads as of an earlier point); absent for an erased identity, whose identifier leaves the index.
   */
  readonly deletedAt?: number;
}

/**
 * Where an event is in the log: its global position, and its stream and revision, by which every
 * event store reads it back (a global position alone is not a read address on EventStoreDB).
 */
export interface CatalogEventAddress {
  readonly position: number;
  readonly stream: string;
  readonly revision: number;
}

export interface CatalogEventRef extends CatalogEventAddress {
  readonly id: string;
}

export interface CatalogAuditEntry extends CatalogEventAddress {
  readonly type: string;
}

export interface CatalogAuditRow extends CatalogAuditEntry {
  readonly entity: string;
}

export interface IdentifierQuery {
  readonly after?: string;
  /** Lower-cased text the identifier must contain, compared with the identifier lower-cased. */
  readonly search?: string;
  /** For a read as of this position: also identifiers whose identity was deleted after it (tombstones). */
  readonly deletedAfter?: number;
  readonly limit: number;
}

export interface AuditQuery {
  readonly after?: number;
  readonly types?: readonly string[];
  readonly limit: number;
}

export interface CatalogBatch {
  readonly checkpoint: number;
  readonly checkpointEvent: CatalogEventRef;
  readonly identities: readonly CatalogIdentityRow[];
  readonly states: ReadonlyMap<string, unknown>;
  readonly audit: readonly CatalogAuditRow[];
  /** Events the catalog applied, to be found by id. */
  readonly events: readonly CatalogEventRef[];
}

/** Compares strings by Unicode code point (UTF-8 byte order, as SQLite's BINARY collation does). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x === y) continue;
    // A surrogate (a code point past U+FFFF) sorts after every other BMP unit in code-point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** The in-memory twin: the same behaviour, nothing persisted (tests, and processes that keep no files). */
export class InMemoryCatalogStore implements CatalogStore {
  private position = 0;
  private positionEvent: CatalogEventRef | null = null;
  private readonly stateByKey = new Map<string, unknown>();
  private readonly identityById = new Map<string, CatalogIdentityRecord>();
  /** Identifier -> null while listed, or the position of its deletion (a tombstone). */
  private readonly identifiersByEnvironment = new Map<number, Map<string, number | null>>();
  private readonly auditByEntity = new Map<string, CatalogAuditEntry[]>();
  private readonly eventById = new Map<string, CatalogEventRef>();

  checkpoint(): number {
    return this.position;
  }

  checkpointEvent(): CatalogEventRef | null {
    return this.positionEvent;
  }

  states(): [string, unknown][] {
    return [...this.stateByKey];
  }

  identity(identityId: string): CatalogIdentityRecord | undefined {
    return this.identityById.get(identityId);
  }

  identifiers(environmentId: number, options: IdentifierQuery): string[] {
    const { after, search, deletedAfter } = options;
    return [...(this.identifiersByEnvironment.get(environmentId) ?? [])]
      .filter(([, deletedAt]) => deletedAt === null || (deletedAfter !== undefined && deletedAt > deletedAfter))
      .map(([identifier]) => identifier)
      .filter((identifier) => (after === undefined || compareCodePoints(identifier, after) > 0) && (search === undefined || identifier.toLowerCase().includes(search)))
      .sort(compareCodePoints)
      .slice(0, options.limit);
  }

  audit(entity: string, options: AuditQuery): CatalogAuditEntry[] {
    const types = options.types ? new Set(options.types) : undefined;
    const after = options.after ?? 0;
    return (this.auditByEntity.get(entity) ?? []).filter((entry) => entry.position > after && (!types || types.has(entry.type))).slice(0, options.limit);
  }

  event(eventId: string): CatalogEventRef | undefined {
    return this.eventById.get(eventId);
  }

  write(batch: CatalogBatch): void {
    for (const row of batch.identities) {
      this.identityById.set(row.identityId, { revision: row.revision, state: row.state });
      const listed = this.identifiersByEnvironment.get(row.environmentId) ?? new Map<string, number | null>();
      if (row.listed) listed.set(row.identifier, null);
      else if (row.deletedAt !== undefined) listed.set(row.identifier, row.deletedAt);
      else listed.delete(row.identifier);
      this.identifiersByEnvironment.set(row.environmentId, listed);
    }
    for (const [key, value] of batch.states) this.stateByKey.set(key, value);
    for (const { entity, ...entry } of batch.audit) {
      const list = this.auditByEntity.get(entity) ?? [];
      if (list.length === 0 || (list[list.length - 1] as CatalogAuditEntry).position < entry.position) list.push(entry);
      this.auditByEntity.set(entity, list);
    }
    for (const event of batch.events) this.eventById.set(event.id, event);
    this.position = batch.checkpoint;
    this.positionEvent = batch.checkpointEvent;
  }

  reset(): void {
    this.position = 0;
    this.positionEvent = null;
    this.stateByKey.clear();
    this.identityById.clear();
    this.identifiersByEnvironment.clear();
    this.auditByEntity.clear();
    this.eventById.clear();
  }

  close(): void {
    // Nothing to release.
  }
}
