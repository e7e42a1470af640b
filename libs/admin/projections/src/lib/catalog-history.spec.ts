import { evolveProject, initialProject, type Project, type ProjectEvent } from '@flagline/admin-domain';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated } from '@flagline/admin-domain/testing';
import { InMemoryEventStore, type EventMetadata, type EventStore, type JsonValue, type ReadAllOptions, type ReadStreamOptions, type ReadStreamResult, type RecordedEvent } from '@flagline/event-sourcing';
import { AdminCatalog } from './admin-catalog';
import { CatalogHistory, keepsSnapshotAfter, parseAsOf, StreamSnapshots } from './catalog-history';

const START = Date.parse('2026-03-01T00:00:00.000Z');
const metadata: EventMetadata = { actor: { kind: 'system', id: 'test' }, occurredAt: '2026-03-01T00:00:00.000Z', correlationId: 'c' };

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A log of project 10 (features created, toggled, renamed, deleted) interleaved with another
 * stream's events, one second apart; the catalog is fed all of it.
 */
async function aLog(events: number, seed: number) {
  let now = START;
  const store = new InMemoryEventStore(() => new Date(now));
  const next = random(seed);
  const features: number[] = [];
  const project: ProjectEvent[] = [aProjectCreated(), anEnvironmentCreated()];
  let nextId = 100;
  while (project.length < events) {
    const pick = next();
    const featureId = features[Math.floor(next() * features.length)];
    if (featureId === undefined || pick < 0.2) {
      const id = nextId++;
      features.push(id);
      project.push(aFeatureCreated({ featureId: id, name: `flag_${id}`, environmentStates: [{ environmentId: 20, featureStateId: id + 10_000 }] }));
    } else if (pick < 0.8) {
      project.push({ type: 'FeatureStateChanged', data: { projectId: 10, environmentId: 20, featureId, featureStateId: featureId + 10_000, enabled: next() < 0.5, value: Math.floor(next() * 100), allocations: [] } });
    } else if (pick < 0.9) {
      project.push({ type: 'FeatureRenamed', data: { projectId: 10, featureId, name: `flag_${featureId}_${project.length}` } });
    } else {
      features.splice(features.indexOf(featureId), 1);
      project.push({ type: 'FeatureDeleted', data: { projectId: 10, featureId } });
    }
  }
  for (const [index, event] of project.entries()) {
    now += 1000;
    await store.appendToStream('project-10', [{ id: `p${index}`, type: event.type, data: event.data as unknown as JsonValue, metadata }]);
    if (index % 3 === 0) await store.appendToStream('sequence-ids', [{ id: `s${index}`, type: 'IdsReserved', data: { from: index }, metadata }]);
  }
  const catalog = new AdminCatalog();
  for (const event of await store.readAll()) catalog.apply(event);
  return { store, catalog, log: await store.readAll() };
}

/**
 * The log with positions as EventStoreDB numbers them (far apart, not one per event), refusing a
 * read of the whole log that starts anywhere but at an event, as EventStoreDB does.
 */
class SparseLog implements Pick<EventStore, 'readStream' | 'readAll' | 'headPosition'> {
  static position = (dense: number): number => dense * 97 + 1000;
  constructor(private readonly inner: InMemoryEventStore) {}

  private sparse = (event: RecordedEvent): RecordedEvent => ({ ...event, globalPosition: SparseLog.position(event.globalPosition) });

  async readStream(streamName: string, options?: ReadStreamOptions): Promise<ReadStreamResult> {
    const result = await this.inner.readStream(streamName, options);
    return { ...result, events: result.events.map(this.sparse) };
  }

  async readAll(options: ReadAllOptions = {}): Promise<readonly RecordedEvent[]> {
    const { after } = options;
    if (after !== undefined && after !== 0 && (after - 1000) % 97 !== 0) throw new Error(`Trying to read from an invalid position (${after})`);
    const events = await this.inner.readAll({ ...options, ...(after !== undefined && after !== 0 ? { after: (after - 1000) / 97 } : {}) });
    return events.map(this.sparse);
  }

  async headPosition(): Promise<number> {
    return SparseLog.position(await this.inner.headPosition());
  }
}

/** The project folded from its first event up to a position, as the catalog would have held it then. */
const foldFromZero = (log: readonly RecordedEvent[], position: number): Project =>
  log
    .filter((event) => event.streamName === 'project-10' && event.globalPosition <= position)
    .reduce((state, event) => evolveProject(state, event as RecordedEvent<ProjectEvent>, event.streamRevision), initialProject());

describe('Catalog history (the catalog as of a point of the log)', () => {
  it('answers a snapshot plus the tail of its stream equal to a fold from zero, at random points in random order', async () => {
    const { store, catalog, log } = await aLog(400, 7);
    const history = new CatalogHistory(store, catalog, { snapshotEvery: 16 });
    const next = random(11);
    const head = await store.headPosition();
    for (let probe = 0; probe < 150; probe++) {
      const position = 1 + Math.floor(next() * head);
      const folded = await history.project(10, position);
      expect(folded?.state).toEqual(foldFromZero(log, position));
    }
    // Snapshots were taken on the way and are used: the whole stream once folded holds 400 / 16 of them.
    expect(history.snapshots.size).toBe(Math.floor(400 / 16));
  });

  it('keeps snapshots of what the catalog folds live, so a point of it is read without folding its stream from the start', async () => {
    const { store, log } = await aLog(100, 6);
    const catalog = new AdminCatalog();
    const history = new CatalogHistory(store, catalog, { snapshotEvery: 10 });
    for (const event of log) catalog.apply(event);
    expect(history.snapshots.size).toBe(10);
    const read = jest.spyOn(store, 'readStream');
    const point = (log.filter((event) => event.streamName === 'project-10')[55] as RecordedEvent).globalPosition;
    expect((await history.project(10, point))?.state).toEqual(foldFromZero(log, point));
    expect(read).toHaveBeenCalledTimes(1);
    expect(read.mock.calls[0]?.[1]?.fromRevision).toBe(50);
  });

  it('reads a point with a snapshot at hand by folding at most a snapshot interval of events', async () => {
    const { store, catalog } = await aLog(300, 3);
    const history = new CatalogHistory(store, catalog, { snapshotEvery: 32 });
    const head = await store.headPosition();
    await history.project(10, head);
    const read = jest.spyOn(store, 'readStream');
    await history.project(10, Math.floor(head / 2));
    // One read, of the events between the snapshots around the point at most.
    expect(read).toHaveBeenCalledTimes(1);
    expect(read.mock.calls[0]?.[1]?.maxCount).toBeLessThanOrEqual(31);
  });

  it('shows a deleted feature as of a point before its deletion and not after', async () => {
    const { store, catalog, log } = await aLog(200, 5);
    const history = new CatalogHistory(store, catalog, { snapshotEvery: 8 });
    const deletion = log.find((event) => event.type === 'FeatureDeleted');
    if (!deletion) throw new Error('the generated log has no deletion');
    const featureId = (deletion.data as { featureId: number }).featureId;
    const before = await history.at(deletion.globalPosition - 1).project(10);
    const after = await history.at(deletion.globalPosition).project(10);
    expect(before?.features.get(featureId)).toBeDefined();
    expect(after?.features.get(featureId)).toBeUndefined();
    expect(catalog.project(10)?.features.get(featureId)).toBeUndefined();
  });

  it('finds entities of a point through the live indexes, and nothing before the project existed', async () => {
    const { store, catalog } = await aLog(50, 9);
    const history = new CatalogHistory(store, catalog);
    expect((await history.at(2).projectHolding('environmentId', 20))?.projectId).toBe(10);
    expect(await history.at(1).projectHolding('environmentId', 20)).toBeDefined();
    expect((await history.at(1).project(10))?.environments.size).toBe(0);
    expect((await history.at(1).projectsOf(1)).map((project) => project.projectId)).toEqual([10]);
    expect(await history.at(1).projectsOf(2)).toEqual([]);
  });

  it('maps a time to the last position recorded at or before it (a binary search, then a window read whole)', async () => {
    const { store, catalog, log } = await aLog(900, 1);
    const history = new CatalogHistory(store, catalog, { clock: () => new Date(START + 10_000_000) });
    const next = random(5);
    for (let probe = 0; probe < 60; probe++) {
      const time = START + Math.floor(next() * 901_000) + 1000;
      const expected = log.filter((event) => Date.parse(event.recordedAt) <= time).at(-1);
      const resolved = await history.resolve({ time: new Date(time).toISOString() });
      expect(resolved.position).toBe(expected?.globalPosition);
    }
    // Several events recorded in the same millisecond: the last of them.
    const sameTime = log.filter((event) => event.recordedAt === log[1]?.recordedAt).at(-1);
    expect((await history.resolve({ time: log[1]?.recordedAt ?? '' })).position).toBe(sameTime?.globalPosition);
  });

  it('maps times and positions on a store numbering its log sparsely, reading only from event positions (as EventStoreDB must)', async () => {
    const { store, log } = await aLog(700, 2);
    const sparse = new SparseLog(store);
    const catalog = new AdminCatalog();
    for (const event of await sparse.readAll()) catalog.apply(event);
    const history = new CatalogHistory(sparse, catalog, { positions: 'sparse', clock: () => new Date(START + 10_000_000) });
    const next = random(8);
    for (let probe = 0; probe < 40; probe++) {
      const time = START + Math.floor(next() * 720_000) + 1000;
      const expected = log.filter((event) => Date.parse(event.recordedAt) <= time).at(-1);
      expect(await history.resolve({ time: new Date(time).toISOString() })).toEqual({ position: SparseLog.position(expected?.globalPosition ?? 0), time: expected?.recordedAt });
      const position = Math.min(SparseLog.position(1 + Math.floor(next() * log.length)) + Math.floor(next() * 7), SparseLog.position(log.length));
      const before = log.filter((event) => SparseLog.position(event.globalPosition) <= position).at(-1);
      expect(await history.resolve({ position })).toEqual({ position, time: before?.recordedAt });
    }
    // A project read as of a sparse position folds its stream by revision, which any store reads.
    const middle = log[350] as RecordedEvent;
    expect((await history.project(10, SparseLog.position(middle.globalPosition)))?.state).toEqual(foldFromZero(log, middle.globalPosition));
    await expect(history.resolve({ time: new Date(START).toISOString() })).rejects.toMatchObject({ code: 'ASOF.BEFORE_LOG' });
  });

  it('refuses a position past the head, a time in the future and a time before the first event, naming asOf', async () => {
    const { store, catalog } = await aLog(20, 1);
    const history = new CatalogHistory(store, catalog, { clock: () => new Date(START + 1_000_000) });
    const head = await store.headPosition();
    await expect(history.resolve({ position: head + 1 })).rejects.toMatchObject({ code: 'ASOF.BEYOND_HEAD', fields: [{ field: 'asOf' }] });
    await expect(history.resolve({ time: new Date(START + 2_000_000).toISOString() })).rejects.toMatchObject({ code: 'ASOF.IN_FUTURE' });
    await expect(history.resolve({ time: new Date(START).toISOString() })).rejects.toMatchObject({ code: 'ASOF.BEFORE_LOG' });
    expect((await history.resolve({ position: head })).position).toBe(head);
  });

  it('answers a point only once the catalog, whose indexes say where entities live, has applied it', async () => {
    const { store, log } = await aLog(30, 4);
    const catalog = new AdminCatalog();
    for (const event of log.slice(0, 10)) catalog.apply(event);
    const history = new CatalogHistory(store, catalog);
    let resolved = false;
    const pending = history.resolve({ position: 20 }).then((point) => {
      resolved = true;
      return point;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(resolved).toBe(false);
    for (const event of log.slice(10)) catalog.apply(event);
    expect((await pending).position).toBe(20);
  });

  it('parses a position or an ISO-8601 time with a zone, and nothing else', () => {
    expect(parseAsOf('42')).toEqual({ position: 42 });
    expect(parseAsOf('2026-03-01T10:00:00Z')).toEqual({ time: '2026-03-01T10:00:00Z' });
    expect(parseAsOf('2026-03-01T10:00:00.123+02:00')).toEqual({ time: '2026-03-01T10:00:00.123+02:00' });
    for (const bad of ['0', '-3', 'yesterday', '2026-03-01', '2026-03-01T10:00:00', '2026-13-45T99:00:00Z', '99999999999999999999'])
      expect(() => parseAsOf(bad, 'from')).toThrow(expect.objectContaining({ code: 'ASOF.INVALID', fields: [expect.objectContaining({ field: 'from' })] }) as Error);
  });
});

describe('Stream snapshots', () => {
  it('finds the latest at or before a position and evicts the streams read least recently', () => {
    const snapshots = new StreamSnapshots(4);
    snapshots.add('a', { state: 'a1', revision: 1, position: 10 });
    snapshots.add('a', { state: 'a3', revision: 3, position: 30 });
    snapshots.add('b', { state: 'b1', revision: 1, position: 15 });
    expect(snapshots.latestAt('a', 29)?.state).toBe('a1');
    expect(snapshots.latestAt('a', 30)?.state).toBe('a3');
    expect(snapshots.latestAt('a', 9)).toBeUndefined();
    snapshots.add('c', { state: 'c1', revision: 1, position: 40 });
    snapshots.add('c', { state: 'c2', revision: 2, position: 41 });
    // Five kept is one too many: b, read least recently, goes.
    expect(snapshots.size).toBe(4);
    expect(snapshots.latestAt('b', 100)).toBeUndefined();
    expect(snapshots.latestAt('a', 100)?.state).toBe('a3');
  });

  it('holds its cap when the stream added to is the only one: 1,000 adds with a cap of 100 keep at most 100, spread over the stream, the latest kept', () => {
    const snapshots = new StreamSnapshots(100);
    for (let revision = 0; revision < 1_000; revision++) {
      snapshots.add('only', { state: revision, revision, position: revision + 1 });
      expect(snapshots.size).toBeLessThanOrEqual(100);
    }
    expect(snapshots.latestAt('only', 1_000)?.state).toBe(999);
    // Thinned, not cut: the start of the stream still has a snapshot near it.
    expect(snapshots.latestAt<number>('only', 64)?.state).toBeGreaterThanOrEqual(0);
    expect(snapshots.size).toBeGreaterThanOrEqual(50);
  });

  it('holds its cap when the stream added to is the least recently read: the others go first, then its own are thinned', () => {
    const snapshots = new StreamSnapshots(10);
    for (let revision = 0; revision < 5; revision++) snapshots.add('old', { state: revision, revision, position: revision + 1 });
    for (let revision = 0; revision < 5; revision++) snapshots.add('other', { state: revision, revision, position: 100 + revision });
    snapshots.latestAt('other', 200);
    for (let revision = 5; revision < 20; revision++) {
      snapshots.add('old', { state: revision, revision, position: revision + 1 });
      expect(snapshots.size).toBeLessThanOrEqual(10);
    }
    expect(snapshots.latestAt('other', 200)).toBeUndefined();
    expect(snapshots.latestAt('old', 1_000)?.state).toBe(19);
  });

  it('keeps a stream’s state every so many events, twice as far apart each time the stream alone passes the cap', () => {
    const kept = (every: number, max: number, events: number): number[] =>
      Array.from({ length: events }, (_, revision) => revision).filter((revision) => keepsSnapshotAfter(revision, every, max));
    expect(kept(4, 100, 20)).toEqual([3, 7, 11, 15, 19]);
    expect(kept(2, 4, 8)).toEqual([1, 3, 5, 7]);
    // Past 4 kept at every 2 events: every 4.
    expect(kept(2, 4, 16).slice(4)).toEqual([11, 15]);
  });
});
