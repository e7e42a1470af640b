import type { CatalogBatch, CatalogIdentityRow, CatalogStore } from '../lib/catalog-store';

export interface CatalogStoreHarness {
  readonly store: CatalogStore;
  /** The same storage opened again, as a restarted process would (durable stores only). */
  reopen?(): CatalogStore;
  dispose(): void;
}

function batch(checkpoint: number, parts: Partial<Omit<CatalogBatch, 'checkpoint' | 'checkpointEventId'>> = {}): CatalogBatch {
  return {
    checkpoint,
    checkpointEventId: `event-${checkpoint}`,
    identities: parts.identities ?? [],
    states: parts.states ?? new Map(),
    audit: parts.audit ?? [],
    eventIds: parts.eventIds ?? [],
  };
}

function identityRow(environmentId: number, identifier: string, revision = 0, listed = true): CatalogIdentityRow {
  return {
    identityId: `${environmentId}/${identifier}`,
    environmentId,
    identifier,
    listed,
    revision,
    state: { identifier, traits: new Map<string, unknown>([['plan', 'pro'], ['age', 42]]), overrides: new Map<number, unknown>([[7, { enabled: true }]]) },
  };
}

/** Behaviour every catalog store must show: the in-memory twin and the SQLite adapter run it. */
export function describeCatalogStoreContract(adapterName: string, factory: () => CatalogStoreHarness, options: { durable: boolean }): void {
  describe(`CatalogStore contract: ${adapterName}`, () => {
    let harness: CatalogStoreHarness;
    let store: CatalogStore;

    beforeEach(() => {
      harness = factory();
      store = harness.store;
    });
    afterEach(() => {
      harness.dispose();
    });

    it('starts empty at checkpoint 0', () => {
      expect(store.checkpoint()).toBe(0);
      expect(store.checkpointEventId()).toBeNull();
      expect(store.states()).toEqual([]);
      expect(store.identity('1/ada')).toBeUndefined();
      expect(store.identifiers(1, { limit: 10 })).toEqual([]);
      expect(store.audit('project:1', { limit: 10 })).toEqual([]);
      expect(store.eventPosition('e1')).toBeUndefined();
    });

    it('stores identities with their revision and structured state (Maps included)', () => {
      store.write(batch(3, { identities: [identityRow(1, 'ada', 2)] }));
      const found = store.identity('1/ada');
      expect(found?.revision).toBe(2);
      expect(found?.state).toEqual(identityRow(1, 'ada', 2).state);
      expect((found?.state as { traits: Map<string, unknown> }).traits.get('age')).toBe(42);
      expect(store.checkpoint()).toBe(3);
      expect(store.checkpointEventId()).toBe('event-3');
    });

    it('lists identifiers of one environment in code-point order, keyset-paged', () => {
      const names = ['b', 'a', 'B', 'é', '\u{1F600}', '\uFF21', 'ab'];
      store.write(batch(1, { identities: [...names.map((name) => identityRow(1, name)), identityRow(2, 'other')] }));
      const all = store.identifiers(1, { limit: 100 });
      expect(all).toEqual(['B', 'a', 'ab', 'b', 'é', '\uFF21', '\u{1F600}']);
      expect(store.identifiers(1, { limit: 2 })).toEqual(['B', 'a']);
      expect(store.identifiers(1, { after: 'a', limit: 2 })).toEqual(['ab', 'b']);
      expect(store.identifiers(1, { after: '\uFF21', limit: 5 })).toEqual(['\u{1F600}']);
      expect(store.identifiers(2, { limit: 5 })).toEqual(['other']);
    });

    it('searches case-insensitively (Unicode lower case) and pages the matches', () => {
      store.write(batch(1, { identities: ['Alice', 'malice', 'bob', 'ÉLAN', 'alien'].map((name) => identityRow(1, name)) }));
      expect(store.identifiers(1, { search: 'ali', limit: 10 })).toEqual(['Alice', 'alien', 'malice']);
      expect(store.identifiers(1, { search: 'ali', after: 'Alice', limit: 1 })).toEqual(['alien']);
      expect(store.identifiers(1, { search: 'éla', limit: 10 })).toEqual(['ÉLAN']);
    });

    it('unlists a deleted identity but keeps its state and revision', () => {
      store.write(batch(1, { identities: [identityRow(1, 'ada', 0), identityRow(1, 'bob', 0)] }));
      store.write(batch(2, { identities: [identityRow(1, 'ada', 1, false)] }));
      expect(store.identifiers(1, { limit: 10 })).toEqual(['bob']);
      expect(store.identity('1/ada')?.revision).toBe(1);
      store.write(batch(3, { identities: [identityRow(1, 'ada', 2, true)] }));
      expect(store.identifiers(1, { limit: 10 })).toEqual(['ada', 'bob']);
    });

    it('pages the audit index by position and filters by type', () => {
      store.write(
        batch(5, {
          audit: [
            { entity: 'feature:1', position: 1, type: 'FeatureCreated' },
            { entity: 'project:1', position: 1, type: 'FeatureCreated' },
            { entity: 'feature:1', position: 3, type: 'FeatureRenamed' },
            { entity: 'feature:1', position: 5, type: 'FeatureStateChanged' },
          ],
        }),
      );
      expect(store.audit('feature:1', { limit: 10 }).map((entry) => entry.position)).toEqual([1, 3, 5]);
      expect(store.audit('feature:1', { after: 1, limit: 1 })).toEqual([{ position: 3, type: 'FeatureRenamed' }]);
      expect(store.audit('feature:1', { types: ['FeatureCreated', 'FeatureStateChanged'], limit: 10 }).map((entry) => entry.position)).toEqual([1, 5]);
      expect(store.audit('feature:2', { limit: 10 })).toEqual([]);
    });

    it('finds events by id', () => {
      store.write(batch(2, { eventIds: [['e1', 1], ['e2', 2]] }));
      expect(store.eventPosition('e2')).toBe(2);
      expect(store.eventPosition('e3')).toBeUndefined();
    });

    it('keeps small states by key, the latest value winning', () => {
      store.write(batch(1, { states: new Map<string, unknown>([['project:1', { name: 'a', features: new Map([[1, 'x']]) }], ['user:1', { email: 'a@b.c' }]]) }));
      store.write(batch(2, { states: new Map<string, unknown>([['project:1', { name: 'b', features: new Map([[1, 'y']]) }]]) }));
      const states = new Map(store.states());
      expect(states.get('project:1')).toEqual({ name: 'b', features: new Map([[1, 'y']]) });
      expect(states.get('user:1')).toEqual({ email: 'a@b.c' });
    });

    it('forgets everything on reset', () => {
      store.write(batch(4, { identities: [identityRow(1, 'ada')], states: new Map([['user:1', {}]]), audit: [{ entity: 'user:1', position: 4, type: 'UserRegistered' }], eventIds: [['e4', 4]] }));
      store.reset();
      expect(store.checkpoint()).toBe(0);
      expect(store.states()).toEqual([]);
      expect(store.identity('1/ada')).toBeUndefined();
      expect(store.identifiers(1, { limit: 10 })).toEqual([]);
      expect(store.audit('user:1', { limit: 10 })).toEqual([]);
      expect(store.eventPosition('e4')).toBeUndefined();
    });

    if (options.durable) {
      it('keeps everything, checkpoint included, across a reopen', () => {
        store.write(batch(7, { identities: [identityRow(1, 'ada', 3)], states: new Map([['user:1', { email: 'a@b.c' }]]), audit: [{ entity: 'user:1', position: 7, type: 'UserRegistered' }], eventIds: [['e7', 7]] }));
        store.close();
        const reopened = harness.reopen?.() as CatalogStore;
        store = reopened;
        expect(reopened.checkpoint()).toBe(7);
        expect(reopened.checkpointEventId()).toBe('event-7');
        expect(reopened.identity('1/ada')?.revision).toBe(3);
        expect(reopened.identifiers(1, { limit: 10 })).toEqual(['ada']);
        expect(reopened.states()).toEqual([['user:1', { email: 'a@b.c' }]]);
        expect(reopened.audit('user:1', { limit: 10 })).toEqual([{ position: 7, type: 'UserRegistered' }]);
        expect(reopened.eventPosition('e7')).toBe(7);
      });
    }
  });
}
