import { foldEvents } from '@flagline/event-sourcing';
import { aFeatureCreated, anEnvironmentCreated, aProjectCreated } from '../../testing/admin-event.builders';
import type { ProjectEvent } from './project.events';
import { evolveProject } from './project.evolve';
import { isFeatureNameTaken } from './project.guards';
import { initialProject, type Feature, type Project } from './project.state';

const fold = (events: readonly ProjectEvent[], from: Project = initialProject()): Project =>
  foldEvents({ evolve: evolveProject }, from, events, from.revision + 1);

const created = (featureId: number, name: string): ProjectEvent => aFeatureCreated({ featureId, name, environmentStates: [{ environmentId: 20, featureStateId: featureId + 100 }] });
const renamed = (featureId: number, name: string): ProjectEvent => ({ type: 'FeatureRenamed', data: { projectId: 10, featureId, name } });
const deleted = (featureId: number): ProjectEvent => ({ type: 'FeatureDeleted', data: { projectId: 10, featureId } });

/** A project of two features whose name index is built (a name was checked) before what follows. */
function indexedProject(): Project {
  const project = fold([aProjectCreated(), anEnvironmentCreated(), created(30, 'checkout'), created(31, 'search')]);
  expect(isFeatureNameTaken(project, 'checkout')).toBe(true);
  return project;
}

describe('Feature names, as states folded one from another check them', () => {
  it('follows a rename: the new name is taken in any case, the old one is free', () => {
    const project = fold([renamed(30, 'Checkout_v2')], indexedProject());
    expect(isFeatureNameTaken(project, 'checkout_V2')).toBe(true);
    expect(isFeatureNameTaken(project, 'checkout')).toBe(false);
    expect(isFeatureNameTaken(project, 'checkout_v2', 30)).toBe(false);
  });

  it('frees the name of a deleted feature, and takes it again when a feature is created under it', () => {
    const afterDelete = fold([deleted(30)], indexedProject());
    expect(isFeatureNameTaken(afterDelete, 'checkout')).toBe(false);
    const recreated = fold([created(32, 'CHECKOUT')], afterDelete);
    expect(isFeatureNameTaken(recreated, 'checkout')).toBe(true);
    expect(isFeatureNameTaken(recreated, 'checkout', 32)).toBe(false);
  });

  it('keeps states folded from one state apart: each sees only its own features', () => {
    const base = indexedProject();
    const left = fold([created(32, 'left')], base);
    const right = fold([created(33, 'right'), renamed(31, 'find')], base);
    expect([isFeatureNameTaken(left, 'left'), isFeatureNameTaken(left, 'right'), isFeatureNameTaken(left, 'search')]).toEqual([true, false, true]);
    expect([isFeatureNameTaken(right, 'left'), isFeatureNameTaken(right, 'right'), isFeatureNameTaken(right, 'search'), isFeatureNameTaken(right, 'find')]).toEqual([
      false,
      true,
      false,
      true,
    ]);
    expect([isFeatureNameTaken(base, 'left'), isFeatureNameTaken(base, 'right'), isFeatureNameTaken(base, 'find')]).toEqual([false, false, false]);
  });

  it('checks a state whose features are a plain Map (a decoded snapshot), and the states folded from it', () => {
    const folded = indexedProject();
    const decoded: Project = { ...folded, features: new Map<number, Feature>([...folded.features].map(([id, feature]) => [id, { ...feature }])) };
    expect(isFeatureNameTaken(decoded, 'Search')).toBe(true);
    const next = fold([renamed(31, 'lookup'), created(34, 'search')], decoded);
    expect(isFeatureNameTaken(next, 'lookup')).toBe(true);
    expect(isFeatureNameTaken(next, 'search', 34)).toBe(false);
    expect(isFeatureNameTaken(next, 'search')).toBe(true);
  });
});
