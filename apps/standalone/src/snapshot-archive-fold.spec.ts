import { evolveProject, initialProject, type Project, type ProjectEvent } from '@flagline/admin-domain';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated } from '@flagline/admin-domain/testing';
import { AdminCatalog, CatalogHistory } from '@flagline/admin-projections';
import { InMemoryEventStore, type EventMetadata, type JsonValue, type RecordedEvent } from '@flagline/event-sourcing';
import { encodeState, SqliteSnapshotArchive } from '@flagline/state-store-sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const metadata: EventMetadata = { actor: { kind: 'system', id: 'test' }, occurredAt: '2026-03-01T00:00:00.000Z', correlationId: 'c' };

/** Project 10's state after its events up to `position`, folded from zero. */
function foldFromZero(log: readonly RecordedEvent[], position: number): Project {
  let state = initialProject();
  for (const event of log) if (event.globalPosition <= position && event.streamName === 'project-10') state = evolveProject(state, event as RecordedEvent<ProjectEvent>, event.streamRevision);
  return state;
}

/**
 * Snapshots of a project (persistent maps of features and feature states) written to
 * snapshots.sqlite, read back by another history after the file is reopened: each equals the fold
 * of the stream from zero, and so does every as-of read that starts from one.
 */
describe('Stream snapshots read back from snapshots.sqlite', () => {
  it('equal the fold from zero at random points', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'flagline-snapshot-fold-'));
    const path = join(directory, 'snapshots.sqlite');
    try {
      const store = new InMemoryEventStore();
      const events: ProjectEvent[] = [aProjectCreated(), anEnvironmentCreated()];
      for (let featureId = 100; featureId < 140; featureId++) events.push(aFeatureCreated({ featureId, name: `flag_${featureId}`, environmentStates: [{ environmentId: 20, featureStateId: featureId + 10_000 }] }));
      let seed = 7;
      const next = (): number => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
      while (events.length < 400) {
        const featureId = 100 + Math.floor(next() * 40);
        events.push({ type: 'FeatureStateChanged', data: { projectId: 10, environmentId: 20, featureId, featureStateId: featureId + 10_000, enabled: next() < 0.5, value: Math.floor(next() * 100), allocations: [] } });
      }
      for (const [index, event] of events.entries()) {
        await store.appendToStream('project-10', [{ id: `p${index}`, type: event.type, data: event.data as unknown as JsonValue, metadata }]);
        if (index % 4 === 0) await store.appendToStream('sequence-ids', [{ id: `s${index}`, type: 'IdsReserved', data: { from: index }, metadata }]);
      }
      const log = await store.readAll();
      const head = await store.headPosition();

      const written = new SqliteSnapshotArchive(path);
      const first = new CatalogHistory(store, new AdminCatalog(), { archive: written, archiveEvery: 16 });
      await first.project(10, head);
      written.close();

      const archive = new SqliteSnapshotArchive(path);
      try {
        expect(archive.size).toBe(Math.floor(events.length / 16));
        const history = new CatalogHistory(store, new AdminCatalog(), { archive, archiveEvery: 16 });
        for (let read = 0; read < 40; read++) {
          const position = 1 + Math.floor(next() * head);
          const archived = archive.latestAt('project-10', position);
          if (archived) expect(encodeState(archived.state)).toBe(encodeState(foldFromZero(log, archived.position)));
          const folded = history.eventsFolded;
          const state = (await history.project(10, position))?.state ?? initialProject();
          expect(encodeState(state)).toBe(encodeState(foldFromZero(log, position)));
          expect(history.eventsFolded - folded).toBeLessThan(16);
        }
      } finally {
        archive.close();
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
