import { LRUCache } from 'lru-cache';
import { createHash, randomUUID } from 'node:crypto';
import type { Actor, DomainEvent, EventMetadata, JsonValue, NewEvent } from './event';
import { ConcurrencyError, type EventStore, type ExpectedRevision } from './event-store.port';
import { foldEvents, toEventList, type Decider } from './decider';

/** Who, when and why: everything a command brings that is not business data. */
export interface CommandContext {
  /** Unique per command; event ids derive from it, so a retried append is recognised. */
  readonly commandId: string;
  readonly actor: Actor;
  readonly now: Date;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly organisationId?: string;
  readonly projectId?: string;
}

export interface HandledCommand<State, Event extends DomainEvent> {
  readonly state: State;
  readonly events: readonly Event[];
  /** Revision of the stream's last event after the append (-1 for an empty, absent stream). */
  readonly revision: number;
  /** Global position of the last appended event; null when the command decided nothing. */
  readonly position: number | null;
}

/** What the caller knows that saves the handler a lookup; wrong hints cost a retry, never a wrong write. */
export interface CommandHints {
  /** The caller just found no such entity (an identify of an identifier it does not know). */
  readonly expectNoStream?: boolean;
  /**
   * The command id was generated for this call (never taken from a client, so never sent again):
   * its events take random ids, which cannot be stored yet, and the store is told so
   * (`freshIds`), sparing it the lookup for a retried append.
   */
  readonly freshCommandId?: boolean;
}

interface CachedStream<State> {
  readonly state: State;
  readonly revision: number | null;
}

/** Derives the id of the n-th event of a command: stable across retries, unique across commands. */
export function eventIdFor(commandId: string, index: number): string {
  const hex = createHash('sha256').update(`${commandId}:${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function metadataFor(context: CommandContext): EventMetadata {
  return {
    actor: context.actor,
    occurredAt: context.now.toISOString(),
    correlationId: context.correlationId,
    ...(context.causationId ? { causationId: context.causationId } : {}),
    ...(context.organisationId ? { organisationId: context.organisationId } : {}),
    ...(context.projectId ? { projectId: context.projectId } : {}),
  };
}

/**
 * Decides on a stream's state and appends with the expected revision. Keeps the last folded
 * state of each stream it wrote or read, so the next command only reads what was appended since.
 *
 * The first attempt decides on what is already known without reading the stream: this
 * handler's own state of it, the snapshot, or (knowing neither) no stream at all, as for every
 * new identity. The append's expected revision checks that assumption: when the stream moved on,
 * the store refuses the append with a concurrency conflict and the next attempt reads the stream
 * and decides again (a few times). A decision that appends nothing, or fails, is not checked by
 * any append, so it is only answered once a read confirms the state it was made on.
 */
export class CommandHandler<State, Command, Event extends DomainEvent> {
  /** The last state of streams this handler wrote or read, least recently used dropped first (in O(1): lru-cache). */
  private readonly cache: LRUCache<string, CachedStream<State>>;

  constructor(
    private readonly store: EventStore,
    private readonly decider: Decider<State, Command, Event>,
    private readonly options: {
      readonly maxRetries?: number;
      readonly cacheLimit?: number;
      /** A read model folding the same streams (kept current by a subscription): a head start for loads. */
      readonly snapshots?: (streamName: string) => { readonly state: State; readonly revision: number } | undefined;
    } = {},
  ) {
    this.cache = new LRUCache({ max: Math.max(1, options.cacheLimit ?? 10_000) });
  }

  /**
   * What this handler knows of a stream without reading it: its own state or the snapshot,
   * whichever is newer. `expectNoStream` skips the snapshot lookup when this handler holds nothing.
   */
  private known(streamName: string, expectNoStream = false): CachedStream<State> {
    const own = this.cache.get(streamName);
    if (expectNoStream && !own) return { state: this.decider.initialState(), revision: null };
    const snapshot = this.options.snapshots?.(streamName);
    return snapshot && (own?.revision ?? -1) < snapshot.revision ? snapshot : (own ?? { state: this.decider.initialState(), revision: null });
  }

  /** The current state of a stream, with the revision of its last event (null: no stream). */
  async load(streamName: string): Promise<CachedStream<State>> {
    return this.catchUp(streamName, this.known(streamName));
  }

  /** `known` brought up to date with what the stream holds after it. */
  private async catchUp(streamName: string, known: CachedStream<State>): Promise<CachedStream<State>> {
    const from = known.revision === null ? 0 : known.revision + 1;
    const { events, currentRevision } = await this.store.readStream(streamName, { fromRevision: from });
    if (events.length === 0 && currentRevision === known.revision) return known;
    const state = foldEvents(this.decider, known.state, events as unknown as readonly Event[], from);
    const loaded = { state, revision: currentRevision };
    this.remember(streamName, loaded);
    return loaded;
  }

  async handle(
    streamName: string,
    command: Command | ((state: State, revision: number | null) => Command | Promise<Command>),
    context: CommandContext,
    hints: CommandHints = {},
  ): Promise<HandledCommand<State, Event>> {
    const maxRetries = this.options.maxRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      let current = attempt === 0 ? this.known(streamName, hints.expectNoStream) : await this.load(streamName);
      let decided = await this.decide(command, current);
      if (attempt === 0 && !('events' in decided && decided.events.length > 0)) {
        // Nothing to append, or a refusal: only an append would have checked the state, so read it.
        const loaded = await this.catchUp(streamName, current);
        if (loaded !== current) decided = await this.decide(command, (current = loaded));
      }
      if ('error' in decided) throw decided.error;
      const { state, revision } = current;
      const events = decided.events;
      if (events.length === 0) return { state, events, revision: revision ?? -1, position: null };
      const expectedRevision: ExpectedRevision = revision === null ? 'no_stream' : revision;
      const metadata = metadataFor(context);
      // Ids derive from the command id so that a retried command is recognised; a fresh command is
      // never retried, so its events take random ids (no hash to compute).
      const newEvents: NewEvent[] = events.map((event, index) => ({
        id: hints.freshCommandId ? randomUUID() : eventIdFor(context.commandId, index),
        type: event.type,
        data: event.data as JsonValue,
        metadata,
      }));
      try {
        const result = await this.store.appendToStream(streamName, newEvents, hints.freshCommandId ? { expectedRevision, freshIds: true } : { expectedRevision });
        const firstRevision = result.nextExpectedRevision - events.length + 1;
        const next = { state: foldEvents(this.decider, state, events, firstRevision), revision: result.nextExpectedRevision };
        this.remember(streamName, next);
        return { state: next.state, events, revision: result.nextExpectedRevision, position: result.position };
      } catch (error) {
        if (!(error instanceof ConcurrencyError) || attempt >= maxRetries) throw error;
      }
    }
  }

  /** Runs the command (or its resolver) against a state: the events, or the error it was refused with. */
  private async decide(
    command: Command | ((state: State, revision: number | null) => Command | Promise<Command>),
    { state, revision }: CachedStream<State>,
  ): Promise<{ readonly events: readonly Event[] } | { readonly error: unknown }> {
    try {
      // A resolver builds the command from the current state (ids to reserve, If-Match checks);
      // it runs again after a concurrency conflict.
      const resolved =
        typeof command === 'function'
          ? await (command as (state: State, revision: number | null) => Command | Promise<Command>)(state, revision)
          : command;
      return { events: toEventList(this.decider.decide(resolved, state)) };
    } catch (error) {
      return { error };
    }
  }

  private remember(streamName: string, entry: CachedStream<State>): void {
    this.cache.set(streamName, entry);
  }

}
