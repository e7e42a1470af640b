import { evolveProject, initialProject, type Project, type ProjectEvent } from '@flagline/admin-domain';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated } from '@flagline/admin-domain/testing';
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
