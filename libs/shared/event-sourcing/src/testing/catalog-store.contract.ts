import { FloatNumber } from '@flagline/python-compat';
import type { CatalogAuditRow, CatalogBatch, CatalogEventRef, CatalogIdentityRow, CatalogStore } from '../lib/catalog-store';

export interface CatalogStoreHarness {
  readonly store: CatalogStore;
  /** The same storage opened again, as a restarted process would (durable stores only). */
  reopen?(): CatalogStore;
  dispose(): void;
}

/** An event reference as the catalog records it (stream `user-1`, revision one less than the position). */
const ref = (id: string, position: number): CatalogEventRef => ({ id, position, stream: 'user-1', revision: position - 1 });
const auditRow = (entity: string, position: number, type: string): CatalogAuditRow => ({ entity, type, position, stream: 'user-1', revision: position - 1 });

function batch(checkpoint: number, parts: Partial<Omit<CatalogBatch, 'checkpoint' | 'checkpointEvent'>> = {}): CatalogBatch {
  return {
    checkpoint,
    checkpointEvent: ref(`event-${checkpoint}`, checkpoint),
    identities: parts.identities ?? [],
    states: parts.states ?? new Map(),
    audit: parts.audit ?? [],
    events: parts.events ?? [],
  };
}

function identityRow(environmentId: number, identifier: string, revision = 0, listed = true): CatalogIdentityRow {
  return {
    identityId: `${environmentId}/${identifier}`,
    environmentId,
    identifier,
    listed,
    revision,
    state: { identifier, traits: new Map<string, unknown>([['plan', 'pro'], ['age', 42], ['score', new FloatNumber(5)]]), overrides: new Map<number, unknown>([[7, { enabled: true }]]) },
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
      expect(store.checkpointEvent()).toBeNull();
      expect(store.states()).toEqual([]);
      expect(store.identity('1/ada')).toBeUndefined();
      expect(store.identifiers(1, { limit: 10 })).toEqual([]);
      expect(store.audit('project:1', { limit: 10 })).toEqual([]);
      expect(store.event('e1')).toBeUndefined();
    });

    it('stores identities with their revision and structured state (Maps included)', () => {
      store.write(batch(3, { identities: [identityRow(1, 'ada', 2)] }));
      const found = store.identity('1/ada');
      expect(found?.revision).toBe(2);
      expect(found?.state).toEqual(identityRow(1, 'ada', 2).state);
      expect((found?.state as { traits: Map<string, unknown> }).traits.get('age')).toBe(42);
      // A float written with an integral value (5.0) stays a float.
      expect((found?.state as { traits: Map<string, unknown> }).traits.get('score')).toBeInstanceOf(FloatNumber);
      expect(store.checkpoint()).toBe(3);
      expect(store.checkpointEvent()).toEqual(ref('event-3', 3));
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

    it('keeps a deleted identity\'s identifier as a tombstone: skipped by live reads, listed by a read as of before its deletion', () => {
      store.write(batch(1, { identities: ['ada', 'bob', 'cy'].map((name) => identityRow(1, name)) }));
      store.write(batch(5, { identities: [{ ...identityRow(1, 'bob', 1, false), deletedAt: 5 }] }));
      expect(store.identifiers(1, { limit: 10 })).toEqual(['ada', 'cy']);
      // As of position 4 (before the deletion) the tombstone is listed; as of 5 (the deletion) it is not.
      expect(store.identifiers(1, { deletedAfter: 4, limit: 10 })).toEqual(['ada', 'bob', 'cy']);
      expect(store.identifiers(1, { deletedAfter: 5, limit: 10 })).toEqual(['ada', 'cy']);
      // Paged and searched as the live list is.
      expect(store.identifiers(1, { deletedAfter: 4, after: 'ada', limit: 1 })).toEqual(['bob']);
      expect(store.identifiers(1, { deletedAfter: 4, search: 'bo', limit: 10 })).toEqual(['bob']);
      expect(store.identifiers(1, { search: 'bo', limit: 10 })).toEqual([]);
      // Created again, it is live; deleted again, its tombstone has the later position.
      store.write(batch(7, { identities: [identityRow(1, 'bob', 2)] }));
      expect(store.identifiers(1, { limit: 10 })).toEqual(['ada', 'bob', 'cy']);
      store.write(batch(9, { identities: [{ ...identityRow(1, 'bob', 3, false), deletedAt: 9 }] }));
      expect(store.identifiers(1, { deletedAfter: 6, limit: 10 })).toEqual(['ada', 'bob', 'cy']);
      expect(store.identifiers(1, { deletedAfter: 9, limit: 10 })).toEqual(['ada', 'cy']);
    });

    it('removes an erased identity\'s identifier entirely, tombstone included', () => {
      store.write(batch(1, { identities: [identityRow(1, 'ada'), identityRow(1, 'bob')] }));
      store.write(batch(2, { identities: [{ ...identityRow(1, 'bob', 1, false), deletedAt: 2 }] }));
      store.write(batch(3, { identities: [identityRow(1, 'bob', 2, false), identityRow(1, 'ada', 1, false)] }));
      expect(store.identifiers(1, { limit: 10 })).toEqual([]);
      expect(store.identifiers(1, { deletedAfter: 1, limit: 10 })).toEqual([]);
      expect(store.identifiers(1, { deletedAfter: 1, search: 'a', limit: 10 })).toEqual([]);
    });

    it('lists an identifier deleted and created again in one batch once, as the last row left it', () => {
      store.write(batch(4, { identities: [identityRow(1, 'ada'), { ...identityRow(1, 'ada', 1, false), deletedAt: 3 }] }));
      expect(store.identifiers(1, { limit: 10 })).toEqual([]);
      expect(store.identifiers(1, { deletedAfter: 2, limit: 10 })).toEqual(['ada']);
      store.write(batch(6, { identities: [{ ...identityRow(1, 'ada', 2, false), deletedAt: 5 }, identityRow(1, 'ada', 3)] }));
      expect(store.identifiers(1, { limit: 10 })).toEqual(['ada']);
    });

    it('pages the audit index by position and filters by type', () => {
      store.write(
        batch(5, {
          audit: [
            auditRow('feature:1', 1, 'FeatureCreated'),
            auditRow('project:1', 1, 'FeatureCreated'),
            auditRow('feature:1', 3, 'FeatureRenamed'),
            auditRow('feature:1', 5, 'FeatureStateChanged'),
          ],
        }),
      );
      expect(store.audit('feature:1', { limit: 10 }).map((entry) => entry.position)).toEqual([1, 3, 5]);
      expect(store.audit('feature:1', { after: 1, limit: 1 })).toEqual([{ type: 'FeatureRenamed', position: 3, stream: 'user-1', revision: 2 }]);
      expect(store.audit('feature:1', { types: ['FeatureCreated', 'FeatureStateChanged'], limit: 10 }).map((entry) => entry.position)).toEqual([1, 5]);
      expect(store.audit('feature:2', { limit: 10 })).toEqual([]);
    });

    it('finds events by id', () => {
      store.write(batch(2, { events: [ref('e1', 1), ref('e2', 2)] }));
      expect(store.event('e2')).toEqual(ref('e2', 2));
      expect(store.event('e3')).toBeUndefined();
    });

    it('keeps small states by key, the latest value winning', () => {
      store.write(batch(1, { states: new Map<string, unknown>([['project:1', { name: 'a', features: new Map([[1, 'x']]) }], ['user:1', { email: 'a@b.c' }]]) }));
      store.write(batch(2, { states: new Map<string, unknown>([['project:1', { name: 'b', features: new Map([[1, 'y']]) }]]) }));
      const states = new Map(store.states());
      expect(states.get('project:1')).toEqual({ name: 'b', features: new Map([[1, 'y']]) });
      expect(states.get('user:1')).toEqual({ email: 'a@b.c' });
    });

    it('forgets everything on reset', () => {
      store.write(batch(4, { identities: [identityRow(1, 'ada')], states: new Map([['user:1', {}]]), audit: [auditRow('user:1', 4, 'UserRegistered')], events: [ref('e4', 4)] }));
      store.reset();
      expect(store.checkpoint()).toBe(0);
      expect(store.states()).toEqual([]);
      expect(store.identity('1/ada')).toBeUndefined();
      expect(store.identifiers(1, { limit: 10 })).toEqual([]);
      expect(store.audit('user:1', { limit: 10 })).toEqual([]);
      expect(store.event('e4')).toBeUndefined();
    });

    if (options.durable) {
      it('keeps everything, checkpoint included, across a reopen', () => {
        store.write(batch(7, { identities: [identityRow(1, 'ada', 3), { ...identityRow(1, 'bob', 1, false), deletedAt: 6 }], states: new Map([['user:1', { email: 'a@b.c' }]]), audit: [auditRow('user:1', 7, 'UserRegistered')], events: [ref('e7', 7)] }));
        store.close();
        const reopened = harness.reopen?.() as CatalogStore;
        store = reopened;
        expect(reopened.checkpoint()).toBe(7);
        expect(reopened.checkpointEvent()).toEqual(ref('event-7', 7));
        expect(reopened.identity('1/ada')?.revision).toBe(3);
        expect(reopened.identifiers(1, { limit: 10 })).toEqual(['ada']);
        expect(reopened.identifiers(1, { deletedAfter: 5, limit: 10 })).toEqual(['ada', 'bob']);
        expect(reopened.states()).toEqual([['user:1', { email: 'a@b.c' }]]);
        expect(reopened.audit('user:1', { limit: 10 })).toEqual([{ type: 'UserRegistered', position: 7, stream: 'user-1', revision: 6 }]);
        expect(reopened.event('e7')).toEqual(ref('e7', 7));
      });
    }
  });
}
