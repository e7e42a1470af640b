import { evolveProject, initialProject, toOrganisationStreamName, type Project, type ProjectEvent } from '@flagline/admin-domain';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated } from '@flagline/admin-domain/testing';
import { AdminCatalog } from '@flagline/admin-projections';
import { InMemoryEventStore, type EventMetadata, type JsonValue } from '@flagline/event-sourcing';
import { AdminApplication } from './admin-application';
import type { RequestContext } from './admin-context';
import { changesBetween, touchedEntities, type DiffEventView } from './diff.service';

const fold = (events: readonly ProjectEvent[], from: Project = initialProject()): Project =>
  events.reduce((state, event, index) => evolveProject(state, event, state.revision + index + 1), from);

const featureCreated = (featureId: number): ProjectEvent =>
  aFeatureCreated({ featureId, name: `flag_${featureId}`, environmentStates: [{ environmentId: 20, featureStateId: featureId + 100 }] });

const behind: DiffEventView = { id: 'e1', position: 9, type: 'FeatureDeleted', actor: { kind: 'system', id: 'test' }, occurredAt: '2026-01-01T00:00:00.000Z' };

describe('Diff of two project states', () => {
  const before = fold([aProjectCreated(), anEnvironmentCreated(), featureCreated(30), featureCreated(31)]);

  it('finds the entities an event changed by comparing the states around it, removals included', () => {
    const after = fold([{ type: 'FeatureDeleted', data: { projectId: 10, featureId: 30 } }], before);
    expect(touchedEntities(before, after).sort()).toEqual(['feature:30', 'featureState:20:30']);
    const toggled = fold([{ type: 'FeatureStateChanged', data: { projectId: 10, environmentId: 20, featureId: 31, featureStateId: 131, enabled: true, value: 'x', allocations: [] } }], before);
    expect(touchedEntities(before, toggled)).toEqual(['featureState:20:31']);
    expect(touchedEntities(before, before)).toEqual([]);
  });

  it('reports an entity that disappeared as one change with all its fields before and null after', () => {
    const after = fold([{ type: 'FeatureDeleted', data: { projectId: 10, featureId: 30 } }], before);
    const changes = changesBetween(before, after, new Map([['feature:30', [behind]]]));
    expect(changes).toEqual([
      { entity: { kind: 'feature', id: '30', name: 'flag_30' }, field: 'entity', before: expect.objectContaining({ id: 30, name: 'flag_30' }) as unknown, after: null, events: [behind] },
    ]);
  });

  it('reports a field that changed and is back to what it was as no change', () => {
    const toggled = fold(
      [
        { type: 'FeatureStateChanged', data: { projectId: 10, environmentId: 20, featureId: 31, featureStateId: 131, enabled: true, value: 'x', allocations: [] } },
        { type: 'FeatureStateChanged', data: { projectId: 10, environmentId: 20, featureId: 31, featureStateId: 131, enabled: false, value: null, allocations: [] } },
      ],
      before,
    );
    expect(changesBetween(before, toggled, new Map([['featureState:20:31', [behind, behind]]]))).toEqual([]);
  });
});

describe('Diff service', () => {
  const metadata: EventMetadata = { actor: { kind: 'system', id: 'test' }, occurredAt: '2026-03-01T00:00:00.000Z', correlationId: 'c' };

  it('reads an absent from as before the log: the change of the log’s first event is in the diff', async () => {
    const store = new InMemoryEventStore();
    // The project's creation is the first event of the log (position 1).
    const project: ProjectEvent[] = [aProjectCreated(), anEnvironmentCreated(), featureCreated(30)];
    for (const [index, event] of project.entries()) await store.appendToStream('project-10', [{ id: `p${index}`, type: event.type, data: event.data as unknown as JsonValue, metadata }]);
    await store.appendToStream(toOrganisationStreamName(1), [
      { id: 'o1', type: 'OrganisationCreated', data: { organisationId: 1, name: 'Acme', createdBy: null, createdAt: '2026-03-01T00:00:00.000Z' }, metadata },
    ]);
    const catalog = new AdminCatalog();
    for (const event of await store.readAll()) catalog.apply(event);
    const app = new AdminApplication({ store, catalog }, { adminApiKey: 'k'.repeat(32), adminEmail: 'root@example.com' });
    const request: RequestContext = { principal: { kind: 'organisation-key', organisationId: 1, role: 'member', keyId: 'key', name: 'key' }, correlationId: 'test' };

    const whole = await app.diff.project(request, 10, undefined, undefined);
    expect(whole.from).toEqual({ position: 0, time: null });
    expect(whole.to.position).toBe(4);
    const created = whole.changes.find((change) => change.entity.kind === 'project');
    expect(created).toMatchObject({ field: 'entity', before: null, after: expect.objectContaining({ id: 10, name: 'Web' }) as unknown });
    expect(created?.events.map((event) => event.position)).toEqual([1]);
    expect(whole.changes.map((change) => change.entity.kind).sort()).toEqual(['environment', 'feature', 'featureState', 'project']);
    // From the first event on, its change is already made.
    expect((await app.diff.project(request, 10, '1', undefined)).changes.map((change) => change.entity.kind)).not.toContain('project');
  });
});
