import { EnvironmentProjector, projectCheckpointKey } from '@flagline/admin-projections';
import type { BatchReadModelStore, ReadModelBatchCommit } from '@flagline/contracts';
import type { RecordedEvent } from '@flagline/event-sourcing';
import { InMemoryReadModelStore } from '@flagline/read-model';
import { BatchProjection } from './batch-projection';
import { recordEventMix } from './testing/event-mix';

const slices = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
};

async function oneByOne(events: readonly RecordedEvent[]): Promise<InMemoryReadModelStore> {
  const store = new InMemoryReadModelStore();
  const projector = new EnvironmentProjector(store);
  for (const event of events) await projector.handle(event);
  return store;
}

const checkpointsOf = (store: BatchReadModelStore, projects: number): Promise<number[]> =>
  store.checkpointMany(Array.from({ length: projects }, (_, index) => projectCheckpointKey(index + 1)));

describe('BatchProjection', () => {
  let events: RecordedEvent[];
  let expected: InMemoryReadModelStore;

  /** Organisation 1 renamed, just after the last event of the history. */
  const organisationRenamed = (): { last: RecordedEvent; renamed: RecordedEvent } => {
    const last = events[events.length - 1] as RecordedEvent;
    const data = { organisationId: 1, name: 'Renamed Ltd' };
    return { last, renamed: { ...last, id: 'organisation-renamed', type: 'OrganisationRenamed', streamName: 'organisation-1', streamRevision: 0, globalPosition: last.globalPosition + 1, data } };
  };

  /** A store with the first `count` events applied in batches, and the projection that applied them. */
  const appliedUpTo = async (count: number): Promise<{ store: InMemoryReadModelStore; projection: BatchProjection }> => {
    const store = new InMemoryReadModelStore();
    const projection = new BatchProjection(store);
    if (count > 0) await projection.apply(events.slice(0, count));
    return { store, projection };
  };

  beforeAll(async () => {
    events = await recordEventMix({ projects: 3, featuresPerProject: 8, identities: 700 });
    expected = await oneByOne(events);
  });

  it('gives the same documents and checkpoints as projecting event by event, whatever the batch size', async () => {
    expect(new Set(events.map((event) => event.type)).size).toBeGreaterThanOrEqual(9);
    for (const size of [1, 97, 1000, events.length]) {
      const store = new InMemoryReadModelStore();
      const projection = new BatchProjection(store);
      for (const slice of slices(events, size)) await projection.apply(slice);
      expect(store.dump()).toEqual(expected.dump());
      expect(await checkpointsOf(store, 3)).toEqual(await checkpointsOf(expected, 3));
    }
  });

  it('writes nothing for a redelivered batch and only the new part of an overlapping one', async () => {
    const { store, projection } = await appliedUpTo(400);
    const [first, second] = [events.slice(0, 400), events.slice(400)];
    const commits: ReadModelBatchCommit[] = [];
    const commitBatch = store.commitBatch.bind(store);
    store.commitBatch = (batch) => {
      commits.push(batch);
      return commitBatch(batch);
    };
    expect(new Set(await projection.apply(first))).toEqual(new Set(['duplicate']));
    expect(commits).toEqual([]);
    const overlapping = events.slice(300);
    const outcomes = await projection.apply(overlapping);
    expect(outcomes.slice(0, 100).every((outcome) => outcome !== 'applied')).toBe(true);
    expect(outcomes.slice(100).filter((outcome) => outcome === 'applied').length).toBe(second.length);
    expect(commits).toHaveLength(1);
    expect(store.dump()).toEqual(expected.dump());
  });

  it('leaves the store untouched when the batch commit fails, and applies the batch whole when run again', async () => {
    const { store, projection } = await appliedUpTo(200);
    const before = store.dump();
    const beforeCheckpoints = await checkpointsOf(store, 3);
    const commitBatch = store.commitBatch.bind(store);
    store.commitBatch = () => Promise.reject(new Error('Connection is closed.'));
    await expect(projection.apply(events.slice(200))).rejects.toThrow('Connection is closed.');
    expect(store.dump()).toEqual(before);
    expect(await checkpointsOf(store, 3)).toEqual(beforeCheckpoints);
    store.commitBatch = commitBatch;
    await projection.apply(events.slice(200));
    expect(store.dump()).toEqual(expected.dump());
  });

  it('writes nothing of a batch holding an event the projection cannot apply', async () => {
    const { store, projection } = await appliedUpTo(200);
    const before = store.dump();
    const at = events.findIndex((event, index) => index >= 210 && event.type === 'IdentityTraitsChanged');
    const original = events[at] as RecordedEvent;
    // Traits removed must be a list: this one cannot be applied, however often it is tried.
    const poison: RecordedEvent = { ...original, data: { ...(original.data as object), removed: 5 } };
    await expect(projection.apply([...events.slice(200, at), poison, ...events.slice(at + 1, at + 50)])).rejects.toThrow(TypeError);
    expect(store.dump()).toEqual(before);
  });

  it('runs a batch again when its organisation was renamed between its reads and its commit, keeping the new name', async () => {
    const { renamed } = organisationRenamed();
    const { store, projection } = await appliedUpTo(200);
    const rival = new EnvironmentProjector(store);
    // Toggles and overrides rewrite environment documents: the batch must not bring back their old organisation part.
    const racing = events.slice(200);
    let raced = false;
    const commitBatch = store.commitBatch.bind(store);
    store.commitBatch = async (batch) => {
      if (!raced) {
        raced = true;
        expect(await rival.handle(renamed)).toBe('applied');
      }
      return commitBatch(batch);
    };
    await projection.apply(racing);
    expect(raced).toBe(true);
    const sequential = new InMemoryReadModelStore();
    const projector = new EnvironmentProjector(sequential);
    for (const event of [...events, renamed]) await projector.handle(event);
    expect(store.dump()).toEqual(sequential.dump());
    const environment = store.dump()['environment:100001'] as { project: { organisationName?: string } };
    expect(environment.project.organisationName).toBe('Renamed Ltd');
  });

  it('runs a batch renaming an organisation again when one of its projects changed an environment meanwhile', async () => {
    const { last, renamed } = organisationRenamed();
    const lastToggle = [...events].reverse().find((event) => event.type === 'FeatureStateChanged') as RecordedEvent;
    const toggled = lastToggle.data as { enabled: boolean };
    const toggle: RecordedEvent = { ...lastToggle, id: 'toggle-again', globalPosition: last.globalPosition + 2, data: { ...toggled, enabled: !toggled.enabled } };
    const before = events;
    const { store, projection } = await appliedUpTo(events.length);
    const rival = new EnvironmentProjector(store);
    let raced = false;
    const commitBatch = store.commitBatch.bind(store);
    store.commitBatch = async (batch) => {
      if (!raced) {
        raced = true;
        expect(await rival.handle(toggle)).toBe('applied');
      }
      return commitBatch(batch);
    };
    await projection.apply([renamed]);
    expect(raced).toBe(true);
    const sequential = new InMemoryReadModelStore();
    const projector = new EnvironmentProjector(sequential);
    for (const event of [...before, renamed, toggle]) await projector.handle(event);
    expect(store.dump()).toEqual(sequential.dump());
  });

  it('runs a batch again on fresh reads when another writer moved one of its checkpoints first', async () => {
    const { store, projection } = await appliedUpTo(200);
    const rival = new EnvironmentProjector(store);
    const racing = events.slice(200, 500);
    // The rival applies the batch's first event between the batch's reads and its commit.
    let raced = false;
    const commitBatch = store.commitBatch.bind(store);
    store.commitBatch = async (batch) => {
      if (!raced) {
        raced = true;
        await rival.handle(racing[0] as RecordedEvent);
      }
      return commitBatch(batch);
    };
    const outcomes = await projection.apply(racing);
    expect(raced).toBe(true);
    expect(outcomes[0]).toBe('duplicate');
    await projection.apply(events.slice(500));
    expect(store.dump()).toEqual(expected.dump());
  });
});
