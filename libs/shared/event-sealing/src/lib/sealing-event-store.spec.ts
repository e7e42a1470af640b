import { canonicalEventBytes, InMemoryEventStore, type NewEvent, type RecordedEvent } from '@flagline/event-sourcing';
import { isErasedData, isSealedData, SealedEventError, type SealingPolicy } from './event-sealer';
import { SealingEventStore } from './sealing-event-store';
import { InMemorySealingKeyStore } from './sealing-key.store';

const policy: SealingPolicy = { sealsStream: (name) => name.startsWith('person-'), personalFields: ['name', 'likes'] };
const metadata = { actor: { kind: 'system' as const, id: 'test' }, occurredAt: '2026-01-01T00:00:00.000Z', correlationId: 'c' };
const event = (id: string, data: NewEvent['data'], type = 'PersonSeen'): NewEvent => ({ id, type, data, metadata });

describe('SealingEventStore', () => {
  let raw: InMemoryEventStore;
  let keys: InMemorySealingKeyStore;
  let store: SealingEventStore;
  beforeEach(() => {
    raw = new InMemoryEventStore();
    keys = new InMemorySealingKeyStore();
    store = new SealingEventStore(raw, keys, policy);
  });

  it('stores personal fields only in the sealed box, and reads them back as they were written, in every read', async () => {
    const data = { personId: 'p1', name: 'Ada Lovelace', age: 36, likes: { engines: 'analytical' } };
    await store.appendToStream('person-p1', [event('e1', data)]);
    const [stored] = await raw.readAll();
    expect(isSealedData(stored?.data)).toBe(true);
    expect(JSON.stringify(stored)).not.toContain('Ada');
    expect(JSON.stringify(stored)).not.toContain('analytical');
    expect(stored?.data).toMatchObject({ personId: 'p1', age: 36 });
    expect((await store.readStream('person-p1')).events[0]?.data).toEqual(data);
    expect((await store.readAll())[0]?.data).toEqual(data);
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({}, (recorded) => void seen.push(recorded));
    await subscription.caughtUp;
    await subscription.stop();
    expect(seen[0]?.data).toEqual(data);
    expect(keys.size).toBe(1);
  });

  it('leaves other streams, and events written before sealing, as they are', async () => {
    await store.appendToStream('project-1', [event('e1', { name: 'Storefront' })]);
    await raw.appendToStream('person-old', [event('e2', { personId: 'old', name: 'Grace' })]);
    expect((await raw.readAll()).map((recorded) => recorded.data)).toEqual([{ name: 'Storefront' }, { personId: 'old', name: 'Grace' }]);
    expect((await store.readAll()).map((recorded) => recorded.data)).toEqual([{ name: 'Storefront' }, { personId: 'old', name: 'Grace' }]);
    expect(keys.size).toBe(0);
  });

  it('reads a stream as erased once its key is destroyed, its stored bytes unchanged, and seals later events with a new key', async () => {
    await store.appendToStream('person-p2', [event('e1', { personId: 'p2', name: 'Alan', likes: ['tea'] }), event('e2', { personId: 'p2', name: 'Alan', likes: [] })]);
    await store.appendToStream('person-p3', [event('e3', { personId: 'p3', name: 'Edsger' })]);
    const before = (await raw.readAll()).map(canonicalEventBytes);
    await keys.destroy('person-p2');
    expect((await raw.readAll()).map(canonicalEventBytes)).toEqual(before);
    const read = await store.readStream('person-p2');
    expect(read.events.map((recorded) => recorded.data)).toEqual([
      { personId: 'p2', erased: true },
      { personId: 'p2', erased: true },
    ]);
    expect(read.events.every((recorded) => isErasedData(recorded.data))).toBe(true);
    expect((await store.readStream('person-p3')).events[0]?.data).toEqual({ personId: 'p3', name: 'Edsger' });

    await store.appendToStream('person-p2', [event('e4', { personId: 'p2', name: 'Alan again' })]);
    expect((await store.readStream('person-p2')).events.map((recorded) => recorded.data)).toEqual([
      { personId: 'p2', erased: true },
      { personId: 'p2', erased: true },
      { personId: 'p2', name: 'Alan again' },
    ]);
  });

  it('refuses an altered box, or a box moved to another event, instead of reading it as erased', async () => {
    await store.appendToStream('person-p4', [event('e1', { personId: 'p4', name: 'Barbara' })]);
    const [stored] = await raw.readAll();
    if (!stored || !isSealedData(stored.data)) throw new Error('not sealed');
    const flipped = Buffer.from(stored.data.sealed.ct, 'base64');
    flipped[0] = (flipped[0] as number) ^ 1;
    const altered = { ...stored, data: { ...stored.data, sealed: { ...stored.data.sealed, ct: flipped.toString('base64') } } } as RecordedEvent;
    await expect(store.openOne(altered)).rejects.toThrow(SealedEventError);
    await expect(store.openOne({ ...stored, id: 'e9' })).rejects.toThrow(SealedEventError);
  });

  it('delivers an event it appended as given while its key is there, and as erased once the key is gone, as the log reads it', async () => {
    await store.appendToStream('person-p6', [event('e1', { personId: 'p6', name: 'Grace' })]);
    await store.appendToStream('person-p7', [event('e2', { personId: 'p7', name: 'Alan' })]);
    await keys.destroy('person-p6');
    // Subscribed afterwards: the first delivery of each comes after the key of p6 is gone.
    const seen: RecordedEvent[] = [];
    const subscription = store.subscribeToAll({}, (recorded) => void seen.push(recorded));
    await subscription.caughtUp;
    await subscription.stop();
    expect(seen.map((recorded) => recorded.data)).toEqual([
      { personId: 'p6', erased: true },
      { personId: 'p7', name: 'Alan' },
    ]);
  });

  it('makes one key for concurrent first appends to a stream', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, index) => store.appendToStream('person-p5', [event(`e${index}`, { personId: 'p5', name: `n${index}` })])));
    expect((await store.readStream('person-p5')).events.map((recorded) => (recorded.data as { name: string }).name).sort()).toHaveLength(10);
    expect(keys.size).toBe(1);
  });
});
