import { CommandHandler, eventIdFor, type CommandContext } from './command-handler';
import type { Decider } from './decider';
import type { NewEvent } from './event';
import type { AppendOptions, AppendResult, ReadStreamOptions, ReadStreamResult } from './event-store.port';
import { InMemoryEventStore } from './in-memory-event-store';

/** A counter: `Add` always appends, `AddBelow` appends only while under its limit, `Take` refuses an empty counter. */
type CounterCommand = { type: 'Add'; by: number } | { type: 'AddBelow'; by: number; limit: number } | { type: 'Take' };
type CounterEvent = { type: 'Added'; data: { by: number } } | { type: 'Taken'; data: Record<string, never> };

const counter: Decider<number, CounterCommand, CounterEvent> = {
  initialState: () => 0,
  decide: (command, state): CounterEvent | CounterEvent[] => {
    switch (command.type) {
      case 'Add':
        return { type: 'Added', data: { by: command.by } };
      case 'AddBelow':
        return state + command.by <= command.limit ? { type: 'Added', data: { by: command.by } } : [];
      case 'Take':
        if (state === 0) throw new Error('empty');
        return { type: 'Taken', data: {} };
    }
  },
  evolve: (state, event) => (event.type === 'Added' ? state + event.data.by : state - 1),
};

/** The in-memory store, counting stream reads and keeping the options of each append. */
class CountingStore extends InMemoryEventStore {
  reads = 0;
  readonly appendOptions: (AppendOptions | undefined)[] = [];
  override appendToStream(streamName: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult> {
    this.appendOptions.push(options);
    return super.appendToStream(streamName, events, options);
  }
  override readStream(streamName: string, options?: ReadStreamOptions): Promise<ReadStreamResult> {
    this.reads++;
    return super.readStream(streamName, options);
  }
}

let commands = 0;
const context = (): CommandContext => ({ commandId: `command-${++commands}`, actor: { kind: 'system', id: 'test', name: 'test' }, now: new Date(0), correlationId: 'c' });

describe('CommandHandler', () => {
  it('appends to a stream it knows nothing of as a new stream, without reading it first', async () => {
    const store = new CountingStore();
    const handler = new CommandHandler(store, counter);
    const result = await handler.handle('counter-1', { type: 'Add', by: 2 }, context());
    expect(result).toMatchObject({ state: 2, revision: 0, position: 1 });
    expect(store.reads).toBe(0);
    // The next command starts from the state it kept, again without a read.
    expect(await handler.handle('counter-1', { type: 'Add', by: 3 }, context())).toMatchObject({ state: 5, revision: 1 });
    expect(store.reads).toBe(0);
  });

  it('reads the stream and decides again when another writer moved it on', async () => {
    const store = new CountingStore();
    const mine = new CommandHandler(store, counter);
    const other = new CommandHandler(store, counter);
    await mine.handle('counter-1', { type: 'Add', by: 1 }, context());
    await other.handle('counter-1', { type: 'Add', by: 10 }, context());
    // `mine` believes the counter is at 1 (revision 0): its append is refused, then it reads and retries.
    const result = await mine.handle('counter-1', { type: 'Add', by: 100 }, context());
    expect(result).toMatchObject({ state: 111, revision: 2 });
    expect((await store.readStream('counter-1')).events.map((event) => event.data)).toEqual([{ by: 1 }, { by: 10 }, { by: 100 }]);
  });

  it('treats an unknown stream that exists as a conflict, then decides on what it holds', async () => {
    const store = new CountingStore();
    await new CommandHandler(store, counter).handle('counter-1', { type: 'Add', by: 4 }, context());
    const result = await new CommandHandler(store, counter).handle('counter-1', { type: 'Add', by: 1 }, context());
    expect(result).toMatchObject({ state: 5, revision: 1 });
  });

  it('confirms a decision to append nothing against the stream before answering', async () => {
    const store = new CountingStore();
    const mine = new CommandHandler(store, counter);
    await mine.handle('counter-1', { type: 'Add', by: 1 }, context());
    await new CommandHandler(store, counter).handle('counter-1', { type: 'Add', by: 5 }, context());
    // On its own state (1) `mine` would add 3 (4 <= 4)...
    // ...but the stream is at 6, over the limit: nothing is appended, from the state read.
    const skipped = await mine.handle('counter-1', { type: 'AddBelow', by: 3, limit: 4 }, context());
    expect(skipped).toMatchObject({ state: 6, events: [], position: null });
    // And the other way round: a no-op on a stale state becomes an append once the stream is read.
    const store2 = new CountingStore();
    const stale = new CommandHandler(store2, counter);
    await stale.handle('counter-2', { type: 'Add', by: 4 }, context());
    await new CommandHandler(store2, counter).handle('counter-2', { type: 'Take' }, context());
    const added = await stale.handle('counter-2', { type: 'AddBelow', by: 1, limit: 4 }, context());
    expect(added).toMatchObject({ state: 4, revision: 2 });
    expect(added.events).toHaveLength(1);
  });

  it('confirms a refusal against the stream: refused only if the stream still warrants it', async () => {
    const store = new CountingStore();
    const mine = new CommandHandler(store, counter);
    // Knowing nothing, `Take` on an empty counter is refused, after a read confirmed it is empty.
    await expect(mine.handle('counter-1', { type: 'Take' }, context())).rejects.toThrow('empty');
    expect(store.reads).toBe(1);
    await new CommandHandler(store, counter).handle('counter-1', { type: 'Add', by: 2 }, context());
    // `mine` still believes the stream absent; the read shows 2, so the take goes through.
    expect(await mine.handle('counter-1', { type: 'Take' }, context())).toMatchObject({ state: 1, revision: 1 });
  });

  it('starts from a snapshot newer than its own state', async () => {
    const store = new CountingStore();
    const writer = new CommandHandler(store, counter);
    await writer.handle('counter-1', { type: 'Add', by: 7 }, context());
    const handler = new CommandHandler(store, counter, { snapshots: () => ({ state: 7, revision: 0 }) });
    expect(await handler.handle('counter-1', { type: 'Add', by: 1 }, context())).toMatchObject({ state: 8, revision: 1 });
    expect(store.reads).toBe(0);
  });

  it('gives up after maxRetries conflicts in a row', async () => {
    const store = new CountingStore();
    const handler = new CommandHandler(store, counter, { maxRetries: 1 });
    let sneaks = 0;
    // Another write lands between every read and append.
    const sneaky = (): CounterCommand => {
      sneaks++;
      void store.appendToStream('counter-1', [{ id: `sneak-${sneaks}-${commands}`, type: 'Added', data: { by: 1 }, metadata: { actor: { kind: 'system', id: 't', name: 't' }, occurredAt: '', correlationId: 'c' } }]);
      return { type: 'Add', by: 1 };
    };
    await expect(handler.handle('counter-1', sneaky, context())).rejects.toMatchObject({ name: expect.stringMatching(/Concurrency/) });
    expect(sneaks).toBe(2);
  });

  it('takes a stream the caller found absent as new without asking the snapshots, and still appends right when it exists', async () => {
    const store = new CountingStore();
    let lookups = 0;
    const snapshots = () => {
      lookups++;
      return undefined;
    };
    const handler = new CommandHandler(store, counter, { snapshots });
    expect(await handler.handle('counter-1', { type: 'Add', by: 2 }, context(), { expectNoStream: true })).toMatchObject({ state: 2, revision: 0 });
    expect([lookups, store.reads]).toEqual([0, 0]);
    // A wrong hint: the stream exists (written by another handler). The append is refused, then read and decided again.
    await new CommandHandler(store, counter).handle('counter-2', { type: 'Add', by: 5 }, context());
    expect(await handler.handle('counter-2', { type: 'Add', by: 1 }, context(), { expectNoStream: true })).toMatchObject({ state: 6, revision: 1 });
  });

  it('tells the store the ids are fresh only for a command id made for the call, also when it retries after a conflict', async () => {
    const store = new CountingStore();
    const handler = new CommandHandler(store, counter);
    await handler.handle('counter-1', { type: 'Add', by: 1 }, context());
    await new CommandHandler(store, counter).handle('counter-1', { type: 'Add', by: 10 }, context());
    // `handler` still believes revision 0: the first append is refused, the second (same ids) is fresh all the same.
    const fresh = context();
    expect(await handler.handle('counter-1', { type: 'Add', by: 100 }, fresh, { freshCommandId: true })).toMatchObject({ state: 111, revision: 2 });
    // Its event took a random id, not one derived from the command id (it is never retried).
    const [, , last] = (await store.readStream('counter-1')).events;
    expect(last?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(last?.id).not.toBe(eventIdFor(fresh.commandId, 0));
    expect(store.appendOptions).toEqual([
      { expectedRevision: 'no_stream' },
      // The second handler knew nothing of the stream: refused, it read the stream and appended again.
      { expectedRevision: 'no_stream' },
      { expectedRevision: 0 },
      { expectedRevision: 0, freshIds: true },
      { expectedRevision: 1, freshIds: true },
    ]);
  });

  it('keeps the states of at most cacheLimit streams, dropping the least recently used', async () => {
    const store = new CountingStore();
    const handler = new CommandHandler(store, counter, { cacheLimit: 2 });
    for (const stream of ['counter-1', 'counter-2', 'counter-3']) await handler.handle(stream, { type: 'Add', by: 1 }, context());
    // counter-1 was dropped: its next command is decided as a new stream, refused, then read.
    expect(await handler.handle('counter-1', { type: 'Add', by: 1 }, context())).toMatchObject({ state: 2, revision: 1 });
    expect(store.reads).toBe(1);
    // counter-3 is still known: no read.
    expect(await handler.handle('counter-3', { type: 'Add', by: 1 }, context())).toMatchObject({ state: 2, revision: 1 });
    expect(store.reads).toBe(1);
  });
});
