import {
  identityDecider,
  identityIdFor,
  type AdminEvent,
  type IdentityIds,
  organisationDecider,
  projectDecider,
  userDecider,
  type Identity,
  type IdentityCommand,
  type IdentityEvent,
  type Organisation,
  type OrganisationCommand,
  type OrganisationEvent,
  type Project,
  type ProjectCommand,
  type ProjectEvent,
  type User,
  type UserCommand,
  type UserEvent,
} from '@flagline/admin-domain';
import { CatalogHistory, type AdminCatalog, type SnapshotArchive } from '@flagline/admin-projections';
import type { FlagAnalyticsStore } from '@flagline/contracts';
import type { TransparencyLog } from '@flagline/transparency';
import { CommandHandler, eventIdFor, type Decider, type DomainEvent, type EventStore, type HandledCommand, type CatalogEventAddress, type CatalogEventRef, type RecordedEvent } from '@flagline/event-sourcing';
import { randomUUID } from 'node:crypto';
import { IdAllocator } from './id-allocator';
import { KeyedLock } from './keyed-lock';
import { actorOf, type Principal } from './principal';

/** Who is asking, and how to trace the request through the log. */
export interface RequestContext {
  readonly principal: Principal;
  readonly correlationId: string;
  /**
   * Set from an `Idempotency-Key`: event ids derive from it, so a retried request is recognised
   * and answered from what the first attempt appended, without deciding again.
   */
  readonly commandId?: string;
  /**
   * A read answers as of this log position (a resolved `asOf`) instead of now; the caller's
   * rights are still their current ones.
   */
  readonly asOf?: number;
}

export interface AdminDependencies {
  readonly store: EventStore;
  /**
   * The same log as stored, not upcast (exports and proofs carry and hash events exactly as they
   * were written; upcasters change with the software, stored events do not). Defaults to `store`.
   */
  readonly storedLog?: EventStore;
  /** The log's Merkle tree (tree heads, proofs); without it the transparency routes answer 404. */
  readonly transparency?: TransparencyLog;
  readonly catalog: AdminCatalog;
  /**
   * How the store numbers its log: `dense` (one position per event: the embedded and in-memory
   * stores) or `sparse` (EventStoreDB's byte offsets); as-of reads find times accordingly.
   */
  readonly logPositions?: 'dense' | 'sparse';
  /** Where as-of reads' stream snapshots outlive a restart (`snapshots.sqlite`); in memory only without one. */
  readonly snapshotArchive?: SnapshotArchive;
  readonly clock?: () => Date;
  /**
   * Resolves once the read models used by evaluation include a position. The standalone app
   * waits on its in-process projector here, so an acknowledged change is already being served.
   */
  readonly projectionBarrier?: (position: number) => Promise<void>;
  /** What erasing an identity's personal data needs beyond its event; without it, erasure is refused. */
  readonly erasure?: PersonalDataErasure;
  /** How this instance derives identity ids (`identityIdsWith`); the unkeyed digest when not given. */
  readonly identityIds?: IdentityIds;
  /** Where SDK-reported flag evaluation counts are kept, for the analytics routes. */
  readonly analytics?: FlagAnalyticsStore;
}

/** The shell's part of an erasure (crypto-shredding): destroying the key that seals a stream's personal data. */
export interface PersonalDataErasure {
  /**
   * Destroys the key of the stream's personal data, durably: its events read as erased from then
   * on. Not before the evaluation read models have applied the erasure (`position`, in the
   * project's order; null when nothing was appended): they drop the identity by the identifier
   * the event names, which they can read only while the key exists.
   */
  destroyKey(streamName: string, erased: { readonly projectId: number; readonly position: number | null }): Promise<void>;
  /**
   * Called once the erasure is projected and its key destroyed: derived stores persist what they
   * hold and drop the page images of what they deleted (WAL checkpoints), so the erased data is
   * gone from their files too.
   */
  scrub?(): Promise<void>;
}

/** A command handler plus what the write path needs around it. */
export class AdminContext {
  readonly clock: () => Date;
  /** This instance's identity ids (the stream an identifier's identity lives in). */
  readonly identityIdFor: IdentityIds;
  readonly ids: IdAllocator;
  readonly users: CommandHandler<User, UserCommand, UserEvent>;
  readonly organisations: CommandHandler<Organisation, OrganisationCommand, OrganisationEvent>;
  readonly projects: CommandHandler<Project, ProjectCommand, ProjectEvent>;
  readonly identities: CommandHandler<Identity, IdentityCommand, IdentityEvent>;
  /** The catalog as of any point of the log, for `asOf` reads and diffs. */
  readonly history: CatalogHistory;
  private readonly lock = new KeyedLock();

  constructor(readonly deps: AdminDependencies) {
    this.clock = deps.clock ?? (() => new Date());
    this.identityIdFor = deps.identityIds ?? identityIdFor;
    this.ids = new IdAllocator(deps.store, this.clock);
    this.history = new CatalogHistory(deps.store, deps.catalog, { positions: deps.logPositions ?? 'dense', ...(deps.snapshotArchive ? { archive: deps.snapshotArchive } : {}) });
    // The catalog folds each stream with the same evolve the decider uses, so its state is the decider's state.
    const snapshots =
      <S>() =>
      (streamName: string) =>
        deps.catalog.snapshot(streamName) as { state: S; revision: number } | undefined;
    this.users = new CommandHandler(deps.store, userDecider, { snapshots: snapshots<User>() });
    this.organisations = new CommandHandler(deps.store, organisationDecider, { snapshots: snapshots<Organisation>() });
    this.projects = new CommandHandler(deps.store, projectDecider, { snapshots: snapshots<Project>() });
    // Identities take bursts of concurrent identify calls whose trait changes merge: retry more.
    this.identities = new CommandHandler(deps.store, identityDecider, { snapshots: snapshots<Identity>(), maxRetries: 10 });
  }

  get catalog(): AdminCatalog {
    return this.deps.catalog;
  }

  now(): string {
    return this.clock().toISOString();
  }

  /**
   * Runs a command and waits until the catalog (and, where configured, the evaluation read
   * models) include it, so the caller's next read sees its own write.
   *
   * Commands on one stream, and requests with one idempotency key, run one at a time in this
   * process: concurrent writes to a project would otherwise race for its next revision and
   * fail after a few retries, and a retry racing its first attempt would decide again instead
   * of finding the first attempt's events.
   */
  async run<S, C, E extends DomainEvent>(
    handler: CommandHandler<S, C, E>,
    streamName: string,
    command: C | ((state: S, revision: number | null) => C | Promise<C>),
    request: RequestContext,
    routing: { organisationId?: number; projectId?: number },
  ): Promise<HandledCommand<S, E>> {
    const keys = [`stream:${streamName}`, ...(request.commandId !== undefined ? [`command:${request.commandId}`] : [])];
    const result = await this.lock.run(keys, async () => {
      const replayed = request.commandId !== undefined ? await this.replayed<S, E>(request.commandId) : null;
      if (replayed) return replayed;
      const handled = await handler.handle(streamName, command, {
        commandId: request.commandId ?? randomUUID(),
        actor: actorOf(request.principal),
        now: this.clock(),
        correlationId: request.correlationId,
        ...(routing.organisationId !== undefined ? { organisationId: String(routing.organisationId) } : {}),
        ...(routing.projectId !== undefined ? { projectId: String(routing.projectId) } : {}),
      });
      if (handled.position !== null) await this.catalog.waitFor(handled.position);
      return handled;
    });
    if (result.position !== null) await this.deps.projectionBarrier?.(result.position);
    return result;
  }

  /** True when the request retries one whose events are already stored (it is then answered from them). */
  isRetry(request: RequestContext): boolean {
    return request.commandId !== undefined && this.catalog.event(eventIdFor(request.commandId, 0)) !== undefined;
  }

  /** Reserves ids for a new entity; a retried request reserves none (placeholders), as it decides nothing. */
  takeIds(request: RequestContext, count: number): Promise<number[]> {
    return this.isRetry(request) ? Promise.resolve(Array.from({ length: count }, () => 0)) : this.ids.take(count);
  }

  /** Admin events read back from the event store (by stream and revision, which every store reads), in the order given. */
  async eventsAt(addresses: readonly CatalogEventAddress[]): Promise<RecordedEvent<AdminEvent>[]> {
    return Promise.all(
      addresses.map(async (address) => {
        const { events } = await this.deps.store.readStream(address.stream, { fromRevision: address.revision, maxCount: 1 });
        const [event] = events;
        if (!event || event.globalPosition !== address.position) throw new Error(`Event ${address.stream}@${address.revision} (position ${address.position}) missing from the event store`);
        return event as RecordedEvent<AdminEvent>;
      }),
    );
  }

  /**
   * What a command with this id appended before, when it did: the events (in order), the current
   * state of their stream and the position of the last one. Deciding a retry again would not do:
   * a create would take new ids (another stream, or an entity that is never stored) or clash
   * with what the first attempt created.
   */
  private async replayed<S, E extends DomainEvent>(commandId: string): Promise<HandledCommand<S, E> | null> {
    const refs: CatalogEventRef[] = [];
    for (let index = 0; ; index++) {
      const ref = this.catalog.event(eventIdFor(commandId, index));
      if (ref === undefined) break;
      refs.push(ref);
    }
    const events = await this.eventsAt(refs);
    const last = events[events.length - 1];
    if (!last) return null;
    const snapshot = this.catalog.snapshot(last.streamName);
    if (!snapshot) return null;
    return {
      state: snapshot.state as S,
      events: events.map((event) => ({ type: event.type, data: event.data }) as unknown as E),
      revision: snapshot.revision,
      position: last.globalPosition,
    };
  }

  /**
   * Builds a command that needs new numeric ids: first decided with placeholder ids (so an
   * invalid command is rejected before anything is reserved), then with real ones.
   */
  withNewIds<S, C>(
    decider: Decider<S, C, DomainEvent>,
    count: (state: S) => number,
    build: (state: S, ids: readonly number[]) => C,
  ): (state: S) => Promise<C> {
    return async (state) => {
      const needed = count(state);
      decider.decide(build(state, Array.from({ length: needed }, (_, index) => -1 - index)), state);
      return build(state, await this.ids.take(needed));
    };
  }
}

/** The event of a type among the events a command appended (or, replayed, had appended). */
export function eventOf<E extends DomainEvent, T extends E['type']>(events: readonly E[], type: T): Extract<E, { type: T }> {
  const found = events.find((event): event is Extract<E, { type: T }> => event.type === type);
  if (!found) throw new Error(`${type} missing from the events of the command`);
  return found;
}
