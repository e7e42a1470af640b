import {
  evolveIdentity,
  evolveOrganisation,
  evolveProject,
  evolveUser,
  initialIdentity,
  initialOrganisation,
  initialProject,
  initialUser,
  toIdentityStreamName,
  toOrganisationStreamName,
  toProjectStreamName,
  toUserStreamName,
  ValidationError,
  type Identity,
  type IdentityEvent,
  type Organisation,
  type OrganisationEvent,
  type Project,
  type ProjectEvent,
  type User,
  type UserEvent,
} from '@flagline/admin-domain';
import type { EventStore, RecordedEvent } from '@flagline/event-sourcing';
import type { AdminCatalog } from './admin-catalog';
import { LogTimeline } from './log-timeline';
import type { SnapshotArchive } from './snapshot-archive';

/** A point of the log as a caller names it: an ISO-8601 time or a global position. */
export type AsOf = { readonly position: number } | { readonly time: string };

/** A stream's folded state after one of its events, and where that event is. */
export interface StreamSnapshot<S> {
  readonly state: S;
  /** Stream revision of the event the state is after. */
  readonly revision: number;
  /** Its global position. */
  readonly position: number;
}

interface Fold<S> {
  readonly initial: () => S;
  readonly evolve: (state: S, event: RecordedEvent, revision: number) => S;
}

const PROJECT: Fold<Project> = { initial: initialProject, evolve: (state, event, revision) => evolveProject(state, event as RecordedEvent<ProjectEvent>, revision) };
const ORGANISATION: Fold<Organisation> = {
  initial: initialOrganisation,
  evolve: (state, event, revision) => evolveOrganisation(state, event as RecordedEvent<OrganisationEvent>, revision),
};
const IDENTITY: Fold<Identity> = { initial: initialIdentity, evolve: (state, event, revision) => evolveIdentity(state, event as RecordedEvent<IdentityEvent>, revision) };
const USER: Fold<User> = { initial: initialUser, evolve: (state, event, revision) => evolveUser(state, event as RecordedEvent<UserEvent>, revision) };

export interface CatalogHistoryOptions {
  /** A stream's state is kept after every this many of its events, when a fold passes them (default 16). */
  readonly snapshotEvery?: number;
  /**
   * At most this many snapshots are kept, over all streams; the streams read least recently lose
   * theirs first, and a stream alone over it keeps every second of its own (default 20,000).
   */
  readonly maxSnapshots?: number;
  /** Source of "now": a time after it is refused. */
  readonly clock?: () => Date;
  /**
   * How the store numbers its log: `dense` (one position per event, 1, 2, 3, …: the embedded and
   * in-memory stores), where a time is found by binary search over positions; `sparse`
   * (EventStoreDB's byte offsets, where a read may only start at an event), where it is found in a
   * `LogTimeline` of sampled times. Default `dense`.
   */
  readonly positions?: 'dense' | 'sparse';
  /**
   * Where snapshots outlive the process: every snapshot kept is also put there (behind, batched),
   * and a fold whose stream has no snapshot in memory near the point reads the archive's.
   */
  readonly archive?: SnapshotArchive;
  /**
   * Events of a stream between the snapshots put in the archive (a multiple of `snapshotEvery`;
   * default 256, sixteen times the memory's): each one is a whole state (a project of 1,000
   * features is hundreds of KB encoded), so the file and the encoding beside the writes stay a
   * sixteenth of what keeping every in-memory snapshot would cost, and a read after a restart
   * folds at most that many events from the archive's snapshot.
   */
  readonly archiveEvery?: number;
}

/**
 * Whether a fold keeps a stream's state after this revision: every `every` events, and twice as far
 * apart each time the stream alone would hold more than `max` of them, so a long stream spreads
 * its snapshots over its whole length instead of filling the cache with its start.
 */
export function keepsSnapshotAfter(revision: number, every: number, max: number): boolean {
  const count = revision + 1;
  if (count % every !== 0) return false;
  let spacing = every;
  while (count / spacing > max) spacing *= 2;
  return count % spacing === 0;
}

/** The bounded cache of stream snapshots, by stream, in revision order; least recently read streams are evicted first. */
export class StreamSnapshots {
  private readonly byStream = new Map<string, StreamSnapshot<unknown>[]>();
  private count = 0;

  /** @param archive - told of every `forget`, so an erased identity's persisted snapshots go too. */
  constructor(
    private readonly max: number,
    private readonly archive?: SnapshotArchive,
  ) {}

  get size(): number {
    return this.count;
  }

  /** The latest snapshot at or before `position`. */
  latestAt<S>(streamName: string, position: number): StreamSnapshot<S> | undefined {
    const list = this.byStream.get(streamName);
    if (!list) return undefined;
    // Marks the stream as read most recently (a Map iterates in insertion order).
    this.byStream.delete(streamName);
    this.byStream.set(streamName, list);
    let low = 0;
    let high = list.length - 1;
    let found: StreamSnapshot<unknown> | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const candidate = list[middle] as StreamSnapshot<unknown>;
      if (candidate.position <= position) {
        found = candidate;
        low = middle + 1;
      } else high = middle - 1;
    }
    return found as StreamSnapshot<S> | undefined;
  }

  /** The earliest snapshot after `position`. */
  firstAfter(streamName: string, position: number): StreamSnapshot<unknown> | undefined {
    const list = this.byStream.get(streamName) ?? [];
    let low = 0;
    let high = list.length - 1;
    let found: StreamSnapshot<unknown> | undefined;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const candidate = list[middle] as StreamSnapshot<unknown>;
      if (candidate.position > position) {
        found = candidate;
        high = middle - 1;
      } else low = middle + 1;
    }
    return found;
  }

  add<S>(streamName: string, snapshot: StreamSnapshot<S>): void {
    const list = this.byStream.get(streamName) ?? [];
    let index = list.length;
    while (index > 0 && (list[index - 1] as StreamSnapshot<unknown>).revision > snapshot.revision) index--;
    if (list[index - 1]?.revision === snapshot.revision) return;
    list.splice(index, 0, snapshot);
    this.byStream.set(streamName, list);
    this.count++;
    for (const [stream, oldest] of this.byStream) {
      if (this.count <= this.max) return;
      if (stream === streamName) continue;
      this.byStream.delete(stream);
      this.count -= oldest.length;
    }
    if (this.count <= this.max) return;
    // The stream added to is the only one left and still over: every second snapshot of it goes
    // (the latest stays), so it holds half as many, twice as far apart.
    const kept = list.filter((_, at) => (list.length - 1 - at) % 2 === 0);
    this.count -= list.length - kept.length;
    this.byStream.set(streamName, kept);
  }

  /** Drops a stream's snapshots (an erased identity's: they hold its personal data). */
  forget(streamName: string): void {
    this.count -= this.byStream.get(streamName)?.length ?? 0;
    this.byStream.delete(streamName);
    this.archive?.forget(streamName);
  }
}

const ASOF_FIELD = 'asOf';
/** Probes of the time search remembered (positions with the first event at or after each). */
const PROBES_KEPT = 8192;
/** Positions read whole at the end of a time's binary search. */
const WINDOW = 256;

/** Reads `asOf` as a caller wrote it: a positive integer is a log position, anything else must be an ISO-8601 time. */
export function parseAsOf(text: string, field: string = ASOF_FIELD): AsOf {
  if (/^\d+$/.test(text)) {
    const position = Number(text);
    if (!Number.isSafeInteger(position) || position < 1) throw new ValidationError('ASOF.INVALID', [{ field, message: 'a log position must be a positive integer' }]);
    return { position };
  }
  // ISO-8601 date-time with a zone (Z or an offset), as Date.parse reads it unambiguously.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(Date.parse(text)))
    throw new ValidationError('ASOF.INVALID', [{ field, message: 'must be a log position (positive integer) or an ISO-8601 time with a zone, like 2026-12-06T02:00:00Z' }]);
  return { time: text };
}

/**
 * The admin catalog as of any point of the log: the states of organisation, project and identity
 * streams folded with the domain's own `evolve` (the catalog's fold), from the latest kept
 * snapshot of the stream at or before the point plus the stream's events after it, read from the
 * event store (upcast, as the catalog reads them). Snapshots are taken while folding, every
 * `snapshotEvery` events of a stream, and kept in a bounded cache: the first read of a long stream
 * folds it once, later reads of any point of it fold at most `snapshotEvery` events.
 *
 * Which streams exist and where entities live comes from the live catalog's indexes, which only
 * grow (ids are never reused and never move), so they answer for any earlier point too.
 */
export class CatalogHistory {
  readonly snapshots: StreamSnapshots;
  private readonly every: number;
  private readonly max: number;
  private readonly clock: () => Date;
  private readonly probes = new Map<number, { position: number; time: string }>();
  private readonly timeline: LogTimeline | null;
  private readonly archive: SnapshotArchive | undefined;
  private readonly archiveEvery: number;
  /** Events folded by as-of reads since the start (what a snapshot saves is events not folded). */
  eventsFolded = 0;

  constructor(
    private readonly store: Pick<EventStore, 'readStream' | 'readAll' | 'headPosition'>,
    private readonly catalog: AdminCatalog,
    options: CatalogHistoryOptions = {},
  ) {
    this.every = options.snapshotEvery ?? 16;
    this.max = options.maxSnapshots ?? 20_000;
    this.archive = options.archive;
    this.archiveEvery = options.archiveEvery ?? this.every * 16;
    this.snapshots = new StreamSnapshots(this.max, this.archive);
    this.clock = options.clock ?? (() => new Date());
    this.timeline = options.positions === 'sparse' ? new LogTimeline(store) : null;
    // What the catalog folds live is kept at the same grain as a fold here would keep it.
    catalog.observeStates((streamName, folded) => {
      if (keepsSnapshotAfter(folded.revision, this.every, this.max)) this.keep(streamName, folded);
    });
  }

  private keep<S>(streamName: string, snapshot: StreamSnapshot<S>): void {
    this.snapshots.add(streamName, snapshot);
    if (keepsSnapshotAfter(snapshot.revision, this.archiveEvery, this.max)) this.archive?.put(streamName, snapshot);
  }

  /**
   * The log position a point names: a position as given, a time as the last position recorded at
   * or before it. Refused (400, naming `field`): a position past the head of the log, a time in
   * the future, a time before the first event (nothing was true then to answer with).
   */
  async resolve(asOf: AsOf, field = ASOF_FIELD): Promise<{ position: number; time: string }> {
    const point = await this.pointOf(asOf, field);
    // Where entities live comes from the catalog's indexes: they must have seen the point.
    await this.catalog.waitFor(point.position);
    return point;
  }

  /** The log position a point names, refused as `resolve` refuses it, without waiting for the catalog (for reads of the log alone). */
  async pointOf(asOf: AsOf, field = ASOF_FIELD): Promise<{ position: number; time: string }> {
    const head = await this.store.headPosition();
    if ('position' in asOf) {
      if (asOf.position > head) throw new ValidationError('ASOF.BEYOND_HEAD', [{ field, message: `position ${asOf.position} is past the head of the log (${head})` }]);
      if (this.timeline) {
        const point = await this.timeline.atOrBefore(asOf.position, head);
        if (!point) throw new ValidationError('ASOF.BEFORE_LOG', [{ field, message: `position ${asOf.position} is before the first event of the log` }]);
        return { position: asOf.position, time: point.time };
      }
      const event = await this.firstFrom(asOf.position);
      return { position: asOf.position, time: event?.time ?? '' };
    }
    const time = Date.parse(asOf.time);
    if (time > this.clock().getTime()) throw new ValidationError('ASOF.IN_FUTURE', [{ field, message: `${asOf.time} is in the future` }]);
    const beforeLog = (first?: string): ValidationError =>
      new ValidationError('ASOF.BEFORE_LOG', [{ field, message: `${asOf.time} is before the first event of the log${first ? ` (${first})` : ''}` }]);
    if (this.timeline) {
      const point = await this.timeline.lastAtOrBefore(time, head);
      if (!point) throw beforeLog();
      return point;
    }
    const [first] = await this.store.readAll({ maxCount: 1 });
    if (!first || Date.parse(first.recordedAt) > time) throw beforeLog(first?.recordedAt);
    return this.lastAtOrBefore(time, first, head);
  }

  /**
   * Binary search over positions: each probe reads the first event at or after a position (one
   * indexed read), so a time costs about log2(head) reads and needs no index of its own. Relies on
   * `recordedAt` never going back along the log, which each store's append path guarantees.
   */
  private async lastAtOrBefore(time: number, first: RecordedEvent, head: number): Promise<{ position: number; time: string }> {
    let found = { position: first.globalPosition, time: first.recordedAt };
    let low = first.globalPosition;
    let high = head;
    while (low < high) {
      // A short window is read whole: consecutive events share the store's frames, so one read of
      // a few hundred costs about what one probe does.
      if (high - low <= WINDOW) {
        for (const event of await this.store.readAll({ after: low, maxCount: high - low })) {
          if (Date.parse(event.recordedAt) > time) break;
          found = { position: event.globalPosition, time: event.recordedAt };
        }
        break;
      }
      const middle = low + Math.ceil((high - low) / 2);
      const event = await this.firstFrom(middle);
      if (event && Date.parse(event.time) <= time) {
        found = event;
        low = event.position;
      } else high = middle - 1;
    }
    return { position: found.position, time: found.time };
  }

  /**
   * The first event at or after a position, as its position and time. Remembered (a bounded
   * map): the first probes of every search are the same few midpoints of the log.
   */
  private async firstFrom(position: number): Promise<{ position: number; time: string } | undefined> {
    const known = this.probes.get(position);
    if (known) return known;
    const [event] = await this.store.readAll({ after: position - 1, maxCount: 1 });
    if (!event) return undefined;
    const found = { position: event.globalPosition, time: event.recordedAt };
    if (this.probes.size >= PROBES_KEPT) this.probes.clear();
    this.probes.set(position, found);
    return found;
  }

  /** The catalog's reads as of a position (resolved with `resolve`). */
  at(position: number): CatalogAt {
    return new CatalogAt(this, this.catalog, position);
  }

  /**
   * A stream's state after its last event at or before `position`; undefined when the stream had
   * no event by then.
   */
  async fold<S>(streamName: string, how: Fold<S>, position: number): Promise<StreamSnapshot<S> | undefined> {
    let current = this.snapshots.latestAt<S>(streamName, position);
    // A snapshot after the point bounds the events to read (each costs a share of a frame's decoding).
    let bound: { readonly revision: number } | undefined = this.snapshots.firstAfter(streamName, position);
    // The memory's snapshots leave more than a step to fold (none yet since a start, or evicted): the archive may have closer ones.
    if (this.archive && (!current || !bound || bound.revision - current.revision > this.every)) {
      const archived = this.archive.latestAt(streamName, position, current?.revision ?? -1);
      if (archived) {
        current = archived as StreamSnapshot<S>;
        this.snapshots.add(streamName, current);
      }
      const after = this.archive.firstAfter(streamName, position);
      if (after && (!bound || after.revision < bound.revision)) bound = after;
    }
    for (;;) {
      const fromRevision = current ? current.revision + 1 : 0;
      const maxCount = bound ? Math.min(this.every, Math.max(1, bound.revision - fromRevision)) : this.every;
      const { events } = await this.store.readStream(streamName, { fromRevision, maxCount });
      for (const event of events) {
        if (event.globalPosition > position) return current;
        const state = how.evolve(current?.state ?? how.initial(), event, event.streamRevision);
        this.eventsFolded++;
        current = { state, revision: event.streamRevision, position: event.globalPosition };
        if (keepsSnapshotAfter(event.streamRevision, this.every, this.max)) this.keep(streamName, current);
      }
      // Short of what was asked: the stream ends here; up to the next snapshot: it is past the point.
      if (events.length < maxCount || (bound && (current?.revision ?? -1) + 1 >= bound.revision)) return current;
    }
  }

  /**
   * A project's stream between two points: its state at `from` (undefined before its first
   * event), then each event after it up to `to` with the states before and after it.
   */
  async walkProject(
    projectId: number,
    from: number,
    to: number,
    visit: (before: Project, after: Project, event: RecordedEvent<ProjectEvent>) => void,
  ): Promise<{ readonly from: Project; readonly to: Project }> {
    const streamName = toProjectStreamName(projectId);
    const start = await this.fold(streamName, PROJECT, from);
    let state = start?.state ?? initialProject();
    const initial = state;
    for (let fromRevision = start ? start.revision + 1 : 0; ; fromRevision += this.every) {
      const { events } = await this.store.readStream(streamName, { fromRevision, maxCount: this.every });
      for (const event of events) {
        if (event.globalPosition > to) return { from: initial, to: state };
        const next = evolveProject(state, event as RecordedEvent<ProjectEvent>, event.streamRevision);
        visit(state, next, event as RecordedEvent<ProjectEvent>);
        state = next;
      }
      if (events.length < this.every) return { from: initial, to: state };
    }
  }

  project(projectId: number, position: number): Promise<StreamSnapshot<Project> | undefined> {
    return this.fold(toProjectStreamName(projectId), PROJECT, position);
  }

  organisation(organisationId: number, position: number): Promise<StreamSnapshot<Organisation> | undefined> {
    return this.fold(toOrganisationStreamName(organisationId), ORGANISATION, position);
  }

  identity(identityId: string, position: number): Promise<StreamSnapshot<Identity> | undefined> {
    return this.fold(toIdentityStreamName(identityId), IDENTITY, position);
  }

  user(userId: number, position: number): Promise<StreamSnapshot<User> | undefined> {
    return this.fold(toUserStreamName(userId), USER, position);
  }
}

/** The state a fold reached, when the entity was live at that point (created and not deleted). */
function live<S extends { readonly status: string }>(folded: { readonly state: S } | undefined): S | undefined {
  return folded?.state.status === 'active' ? folded.state : undefined;
}

/** The reads the admin services make of the catalog, answered as of one position (only what was live then). */
export class CatalogAt {
  constructor(
    private readonly history: CatalogHistory,
    private readonly catalog: AdminCatalog,
    readonly position: number,
  ) {}

  async organisation(organisationId: number): Promise<Organisation | undefined> {
    return live(await this.history.organisation(organisationId, this.position));
  }

  async project(projectId: number): Promise<Project | undefined> {
    return live(await this.history.project(projectId, this.position));
  }

  /** The organisation's projects live at the point, by id. */
  async projectsOf(organisationId: number): Promise<Project[]> {
    const projects = await Promise.all(this.catalog.projectIdsOf(organisationId).map((projectId) => this.project(projectId)));
    return projects.filter((project): project is Project => project !== undefined).sort((a, b) => a.projectId - b.projectId);
  }

  async projectHolding(kind: 'featureId' | 'segmentId' | 'tagId' | 'environmentId', id: number): Promise<Project | undefined> {
    const projectId = this.catalog.projectIdHolding(`${kind}:${id}`);
    return projectId === undefined ? undefined : this.project(projectId);
  }

  async projectByEnvironmentKey(apiKey: string): Promise<Project | undefined> {
    const projectId = this.catalog.projectIdHolding(`apiKey:${apiKey}`);
    return projectId === undefined ? undefined : this.project(projectId);
  }

  async identity(identityId: string): Promise<Identity | undefined> {
    return live(await this.history.identity(identityId, this.position));
  }

  /** A user's profile as it was at the point (registered by then and not deleted). */
  async user(userId: number): Promise<User | undefined> {
    return live(await this.history.user(userId, this.position));
  }
}
