import Database from 'better-sqlite3';
import type { CatalogBatch } from '@flagline/event-sourcing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteCatalogStore } from './sqlite-catalog-store';
import { MapOfItsOwn } from './testing/map-of-its-own';

interface Feature {
  readonly featureId: number;
  readonly name: string;
}
const feature = (id: number, name = `feature_${id}`): Feature => ({ featureId: id, name });
const features = (count: number): MapOfItsOwn<number, Feature> => MapOfItsOwn.frozen(Array.from({ length: count }, (_, index) => [index + 1, feature(index + 1)] as const));
/** A project-like state: a big map at the root of a field, and one inside a small map's value. */
const project = (revision: number, all: ReadonlyMap<number, Feature>, states: ReadonlyMap<number, boolean>): unknown => ({
  state: { projectId: 1, features: all, environments: MapOfItsOwn.frozen([[7, { environmentId: 7, featureStates: states }]]) },
  revision,
});

let position = 0;
const batch = (states: Map<string, unknown>): CatalogBatch => {
  position++;
  return { checkpoint: position, checkpointEvent: { id: `e${position}`, position, stream: 'project-1', revision: position - 1 }, identities: [], states, audit: [], events: [] };
};

describe('SqliteCatalogStore snapshots at the grain of change', () => {
  let dir: string;
  let path: string;
  const rows = (file: string, table: 'state' | 'state_part'): unknown[] => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2${table === 'state_part' ? ', 3' : ''}`).all();
    } finally {
      db.close();
    }
  };
  const parts = (): Record<string, string> =>
    Object.fromEntries((rows(path, 'state_part') as { key: string; path: string; part: number; value: string }[]).map((row) => [`${row.key} ${row.path} ${row.part}`, row.value]));

  beforeEach(() => {
    position = 0;
    dir = mkdtempSync(join(tmpdir(), 'catalog-state-rows-'));
    path = join(dir, 'catalog.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the maps of more than 64 entries in parts, and then only the parts whose entries changed', () => {
    const store = SqliteCatalogStore.open(path);
    const all = features(150);
    const states = MapOfItsOwn.frozen<number, boolean>(Array.from({ length: 70 }, (_, index) => [index + 1, false] as const));
    store.write(batch(new Map([['project:1', project(1, all, states)]])));
    expect(Object.keys(parts())).toEqual([
      'project:1 .state.environments[7].featureStates 0',
      'project:1 .state.environments[7].featureStates 1',
      'project:1 .state.features 0',
      'project:1 .state.features 1',
      'project:1 .state.features 2',
    ]);
    expect(rows(path, 'state')).toEqual([
      {
        key: 'project:1',
        value:
          '{"state":{"projectId":1,"features":{"\\u0000parts":[".state.features",150]},"environments":{"\\u0000map":[[7,{"environmentId":7,"featureStates":{"\\u0000parts":[".state.environments[7].featureStates",70]}}]]}},"revision":1}',
      },
    ]);

    // Part 0 of the features changed behind the store's back: a write that rewrote it would put it back.
    const db = new Database(path);
    const tampered = JSON.stringify(Array.from({ length: 64 }, (_, index) => [index + 1, index === 0 ? feature(1, 'tampered') : feature(index + 1)]));
    db.prepare(`UPDATE state_part SET value = ? WHERE path = '.state.features' AND part = 0`).run(tampered);
    db.close();
    // A toggle of the 66th state (part 1) and a rename of the 130th feature (part 2).
    const toggled = states.with(66, true);
    const renamed = all.with(130, feature(130, 'renamed'));
    store.write(batch(new Map([['project:1', project(2, renamed, toggled)]])));
    const after = parts();
    expect(after['project:1 .state.features 0']).toBe(tampered);
    expect(JSON.parse(after['project:1 .state.features 2'] as string)).toContainEqual([130, { featureId: 130, name: 'renamed' }]);
    expect(JSON.parse(after['project:1 .state.environments[7].featureStates 1'] as string)).toContainEqual([66, true]);
    store.close();

    const [[key, state]] = SqliteCatalogStore.open(path).states() as [[string, { state: { features: Map<number, Feature>; environments: Map<number, { featureStates: Map<number, boolean> }> }; revision: number }]];
    expect(key).toBe('project:1');
    expect(state.revision).toBe(2);
    expect([...state.state.features.values()].map(({ name }) => name)).toEqual([...renamed.values()].map(({ name }, index) => (index === 0 ? 'tampered' : name)));
    expect([...(state.state.environments.get(7)?.featureStates ?? new Map<number, boolean>()).entries()]).toEqual([...toggled.entries()]);
  });

  it('holds the same rows after any series of writes and restarts as a file written once with the final states', () => {
    let store = SqliteCatalogStore.open(path);
    const all = features(200);
    // A native map filled in place, with values filled in place too (as the catalog's indexes are).
    const index = new Map<string, Set<string>>(Array.from({ length: 100 }, (_, n) => [`key-${n}`, new Set([`a${n}`])]));
    store.write(batch(new Map<string, unknown>([['project:1', project(1, all, MapOfItsOwn.frozen([[1, true]]))], ['indexes', { invitations: index }]])));
    index.get('key-3')?.add('added in place');
    index.set('key-100', new Set(['new']));
    store.write(batch(new Map<string, unknown>([['indexes', { invitations: index }]])));
    store.close();
    // After a restart the maps are read back as plain Maps, and written from them.
    store = SqliteCatalogStore.open(path);
    const [loaded] = store.states().filter(([key]) => key === 'project:1') as [[string, { state: { features: Map<number, Feature> } }]];
    const shrunk = new Map([...loaded[1].state.features.entries()].slice(0, 70));
    shrunk.set(3, feature(3, 'renamed'));
    store.write(batch(new Map<string, unknown>([['project:1', project(2, shrunk, MapOfItsOwn.frozen([[1, false]]))]])));
    // Below 65 entries a map is written inside its head, and its parts go.
    store.write(batch(new Map<string, unknown>([['project:2', project(1, features(100), MapOfItsOwn.frozen<number, boolean>([]))]])));
    store.write(batch(new Map<string, unknown>([['project:2', project(2, features(64), MapOfItsOwn.frozen<number, boolean>([]))]])));
    const final = new Map(store.states());
    store.close();

    const freshPath = join(dir, 'fresh.sqlite');
    const fresh = SqliteCatalogStore.open(freshPath);
    fresh.write(batch(new Map(final)));
    fresh.close();
    expect(rows(path, 'state')).toEqual(rows(freshPath, 'state'));
    expect(rows(path, 'state_part')).toEqual(rows(freshPath, 'state_part'));
    expect(Object.keys(parts())).toEqual(['indexes .invitations 0', 'indexes .invitations 1', 'project:1 .state.features 0', 'project:1 .state.features 1']);
    const invitations = (final.get('indexes') as { invitations: Map<string, Set<string>> }).invitations;
    expect(invitations.get('key-3')).toEqual(new Set(['a3', 'added in place']));
    expect(invitations.get('key-100')).toEqual(new Set(['new']));
    expect((final.get('project:1') as { state: { features: Map<number, Feature> } }).state.features.get(3)?.name).toBe('renamed');
  });

  it('starts empty over a file whose snapshots and parts do not fit together', () => {
    const store = SqliteCatalogStore.open(path);
    store.write(batch(new Map([['project:1', project(1, features(150), MapOfItsOwn.frozen<number, boolean>([]))]])));
    store.close();
    const db = new Database(path);
    db.prepare('DELETE FROM state_part WHERE part = 1').run();
    db.close();
    const discarded: string[] = [];
    const reopened = SqliteCatalogStore.open(path, { onDiscarded: (reason) => discarded.push(reason) });
    expect(discarded).toEqual([expect.stringMatching(/stored state damaged: the map at \.state\.features has 86 entries in its parts, its head says 150/)]);
    expect(reopened.checkpoint()).toBe(0);
    expect(reopened.states()).toEqual([]);
    reopened.close();
  });
});
