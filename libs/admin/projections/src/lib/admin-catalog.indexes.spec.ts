import type { ProjectEvent } from '@flagline/admin-domain';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated } from '@flagline/admin-domain/testing';
import { InMemoryCatalogStore, type CatalogBatch } from '@flagline/event-sourcing';
import { AdminCatalog } from './admin-catalog';

const NOW = '2026-02-01T10:00:00.000Z';

/** Remembers which folded states each flush wrote. */
class RecordingStore extends InMemoryCatalogStore {
  readonly written: string[][] = [];
  override write(batch: CatalogBatch): void {
    this.written.push([...batch.states.keys()].sort());
    super.write(batch);
  }
}

/** Feeds project 10's events to a catalog in log order, from `position` on. */
function feed(catalog: AdminCatalog, events: ProjectEvent[], position: number): number {
  events.forEach((event, index) => {
    catalog.apply({
      ...event,
      id: `e${position + index}`,
      metadata: { actor: { kind: 'system', id: 'test' }, occurredAt: NOW, correlationId: 'c' },
      streamName: 'project-10',
      streamRevision: position + index - 1,
      globalPosition: position + index,
      recordedAt: NOW,
    });
  });
  return position + events.length;
}

const featureCreated = (featureId: number): ProjectEvent =>
  aFeatureCreated({ featureId, name: `flag_${featureId}`, environmentStates: [{ environmentId: 20, featureStateId: featureId + 100 }] });

describe('Admin catalog indexes', () => {
  it('writes the indexes again only after an event that moved one, and finds entities after a restart', () => {
    const store = new RecordingStore();
    const catalog = new AdminCatalog({ store, flushIntervalMs: 60_000 });
    let position = feed(
      catalog,
      [
        aProjectCreated(),
        anEnvironmentCreated({ apiKey: 'client-key' }),
        featureCreated(30),
      ],
      1,
    );
    catalog.flush();
    position = feed(catalog, [{ type: 'FeatureStateChanged', data: { projectId: 10, environmentId: 20, featureId: 30, featureStateId: 130, enabled: true, value: null, allocations: [] } }], position);
    catalog.flush();
    position = feed(catalog, [featureCreated(31)], position);
    catalog.flush();
    expect(store.written).toEqual([['indexes', 'project:10'], ['project:10'], ['indexes', 'project:10']]);

    const reopened = new AdminCatalog({ store });
    expect(reopened.position).toBe(position - 1);
    expect(reopened.projectHolding('featureId', 31)?.projectId).toBe(10);
    expect(reopened.projectHolding('environmentId', 20)?.projectId).toBe(10);
    expect(reopened.projectByEnvironmentKey('client-key')?.projectId).toBe(10);
    expect(reopened.project(10)?.environments.get(20)?.featureStates.get(30)?.enabled).toBe(true);
  });
});
