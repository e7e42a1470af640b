import Database from 'better-sqlite3';
import { describeCatalogStoreContract } from '@flagline/event-sourcing/testing';
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BulkIdentities, SqliteCatalogStore } from './sqlite-catalog-store';

function tempDir(): { dir: string; path: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'catalog-store-'));
  return { dir, path: join(dir, 'catalog.sqlite'), dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

describeCatalogStoreContract(
  'sqlite',
  () => {
    const { path, dispose } = tempDir();
    const opened: SqliteCatalogStore[] = [SqliteCatalogStore.open(path)];
    return {
      store: opened[0] as SqliteCatalogStore,
      reopen: () => {
        const store = SqliteCatalogStore.open(path);
        opened.push(store);
        return store;
      },
      dispose: () => {
        for (const store of opened) store.close();
        dispose();
      },
    };
  },
  { durable: true },
);

describe('SqliteCatalogStore: files it must not serve', () => {
  const batch = { checkpoint: 9, checkpointEvent: { id: 'e9', position: 9, stream: 'user-1', revision: 8 }, identities: [], states: new Map([['user:1', { email: 'a@b.c' }]]), audit: [], events: [] };

  it('starts empty over a torn file (cut short after a checkpoint)', () => {
    const { path, dispose } = tempDir();
    try {
      const store = SqliteCatalogStore.open(path);
      store.write({ ...batch, identities: Array.from({ length: 2000 }, (_, index) => ({ identityId: `i${index}`, environmentId: 1, identifier: `id-${index}`, listed: true, revision: 0, state: { index } })) });
      store.close();
      const size = statSync(path).size;
      truncateSync(path, Math.floor(size / 2));
      const reasons: string[] = [];
      const reopened = SqliteCatalogStore.open(path, { onDiscarded: (reason) => reasons.push(reason) });
      expect(reasons).toEqual([expect.stringContaining('torn')]);
      expect(reopened.checkpoint()).toBe(0);
      expect(reopened.identity('i1')).toBeUndefined();
      reopened.close();
    } finally {
      dispose();
    }
  });

  it('starts empty over a foreign file, a foreign SQLite database and another format', () => {
    const { path, dispose } = tempDir();
    try {
      writeFileSync(path, 'not a database at all, but long enough to have a header of one hundred bytes.......................................');
      const reasons: string[] = [];
      const store = SqliteCatalogStore.open(path, { onDiscarded: (reason) => reasons.push(reason) });
      expect(store.checkpoint()).toBe(0);
      store.write(batch);
      store.close();
      const reopened = SqliteCatalogStore.open(path);
      expect(reopened.checkpoint()).toBe(9);
      reopened.close();
      expect(reasons).toEqual([expect.stringContaining('not a SQLite database')]);
      rmSync(path);
      const foreign = new Database(path);
      foreign.exec('CREATE TABLE meta (key TEXT PRIMARY KEY, value); INSERT INTO meta VALUES (\'format\', \'someone-else/3\')');
      foreign.close();
      const replaced = SqliteCatalogStore.open(path, { onDiscarded: (reason) => reasons.push(reason) });
      expect(reasons[1]).toContain('someone-else/3');
      expect(replaced.checkpoint()).toBe(0);
      replaced.close();
    } finally {
      dispose();
    }
  });

  it('starts empty over a format 8 file (its identifier index has no tombstones), for the catalog to rebuild from the log', () => {
    const { path, dispose } = tempDir();
    try {
      const old = new Database(path);
      old.exec(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID; INSERT INTO meta VALUES ('format', 'flagline-catalog/8'), ('checkpoint', 9);" +
          "CREATE TABLE identifier (environment INTEGER NOT NULL, identifier TEXT NOT NULL, PRIMARY KEY (environment, identifier)) WITHOUT ROWID; INSERT INTO identifier VALUES (1, 'ada');",
      );
      old.close();
      const reasons: string[] = [];
      const store = SqliteCatalogStore.open(path, { onDiscarded: (reason) => reasons.push(reason) });
      expect(reasons).toEqual([expect.stringContaining('format flagline-catalog/8, expected flagline-catalog/9')]);
      expect(store.checkpoint()).toBe(0);
      expect(store.identifiers(1, { limit: 10 })).toEqual([]);
      store.close();
    } finally {
      dispose();
    }
  });
});

describe('SqliteCatalogStore: a bulk load', () => {
  it('writes a batch of audit rows (in statements of many rows) as they are written one by one: every row, the first of a repeated key kept', () => {
    const { dir, dispose } = tempDir();
    try {
      // 150 rows: two whole statements' worth and a remainder; repeated keys inside the first
      // statement, and across a statement and the remainder, with another type each time.
      const audit = Array.from({ length: 150 }, (_, index) => ({ entity: `project:${index % 3}`, position: index + 1, type: `T${index}`, stream: `project-${index % 3}`, revision: index }));
      audit.splice(10, 0, { ...audit[5], type: 'repeated-in-statement' } as (typeof audit)[number]);
      audit.push({ ...audit[20], type: 'repeated-after-statement' } as (typeof audit)[number]);
      const batch = { checkpoint: 151, checkpointEvent: { id: 'e151', position: 151, stream: 'project-0', revision: 150 }, identities: [], states: new Map(), audit, events: [] };
      const written = (options: { bulkLoad?: boolean }, name: string) => {
        const store = SqliteCatalogStore.open(join(dir, name), options);
        store.write(batch);
        const pages = [0, 1, 2].map((project) => store.audit(`project:${project}`, { limit: 1_000 }));
        store.close();
        return pages;
      };
      const oneByOne = written({}, 'one-by-one.sqlite');
      const bulk = written({ bulkLoad: true }, 'bulk.sqlite');
      expect(bulk).toEqual(oneByOne);
      expect(bulk.flat()).toHaveLength(150);
      expect(bulk.flat().map(({ type }) => type)).not.toContain('repeated-in-statement');
      expect(bulk.flat().map(({ type }) => type)).not.toContain('repeated-after-statement');
      expect(bulk[0]?.map(({ position }) => position)).toEqual(audit.filter((row) => row.entity === 'project:0' && !row.type.startsWith('repeated')).map((row) => row.position));
    } finally {
      dispose();
    }
  });
});

describe('SqliteCatalogStore: a bulk load of identities', () => {
  it('holds the same identities and identifiers as one by one: written again in a later batch, and an identifier listed then unlisted in a batch ends unlisted', () => {
    const { dir, dispose } = tempDir();
    try {
      const identity = (index: number, revision: number, listed = true) => ({ identityId: `id-${index}`, environmentId: 1, identifier: `user-${index}`, listed, revision, state: { traits: new Map([['n', index]]), revision } });
      const first = Array.from({ length: 150 }, (_, index) => identity(index, 0));
      // Another identity of an identifier listed just before, unlisted: the identifier ends unlisted.
      first.push({ ...identity(150, 0, false), identifier: 'user-149' });
      const second = [identity(3, 1), identity(70, 1, false), identity(151, 0)];
      const batchOf = (identities: typeof first, checkpoint: number) => ({ checkpoint, checkpointEvent: { id: `e${checkpoint}`, position: checkpoint, stream: 'identity-x', revision: 0 }, identities, states: new Map(), audit: [], events: [] });
      const written = (options: { bulkLoad?: boolean }, name: string) => {
        const store = SqliteCatalogStore.open(join(dir, name), options);
        store.write(batchOf(first, 151));
        store.write(batchOf(second, 154));
        const identities = Array.from({ length: 152 }, (_, index) => store.identity(`id-${index}`));
        const identifiers = store.identifiers(1, { limit: 1_000 });
        store.close();
        return { identities, identifiers };
      };
      const oneByOne = written({}, 'one-by-one.sqlite');
      const bulk = written({ bulkLoad: true }, 'bulk.sqlite');
      expect(bulk).toEqual(oneByOne);
      expect(bulk.identities[3]).toEqual({ revision: 1, state: { traits: new Map([['n', 3]]), revision: 1 } });
      expect(bulk.identities.every((found) => found !== undefined)).toBe(true);
      expect(bulk.identifiers).toHaveLength(149);
      expect(bulk.identifiers).not.toContain('user-149');
      expect(bulk.identifiers).not.toContain('user-70');
      expect(bulk.identifiers).toContain('user-151');
      // Closed, the bulk-loaded file has its identity index, and reopened it finds them through it.
      const indexes = new Database(join(dir, 'bulk.sqlite'), { readonly: true });
      expect(indexes.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'identity'").pluck().all()).toEqual(['identity_by_key']);
      indexes.close();
      const reopened = SqliteCatalogStore.open(join(dir, 'bulk.sqlite'));
      expect(Array.from({ length: 152 }, (_, index) => reopened.identity(`id-${index}`))).toEqual(bulk.identities);
      reopened.close();
    } finally {
      dispose();
    }
  });
});

describe('SqliteCatalogStore: where a bulk load finds the identities it wrote', () => {
  it('tells apart ids sharing a key, and forgets those of a failed batch without giving their rowids again', () => {
    const rows = new Map<number, string>();
    const bulk = new BulkIdentities((rowid) => rows.get(rowid));
    const added = (key: number, id: string): number => {
      const rowid = bulk.add(key, id);
      rows.set(rowid, id);
      return rowid;
    };
    expect(bulk.rowidOf(7, 'a')).toBeUndefined();
    expect(added(7, 'a')).toBe(1);
    expect(added(9, 'c')).toBe(2);
    // Another id with the same key (53 bits of a hash: rare, but it happens).
    expect(bulk.rowidOf(7, 'b')).toBeUndefined();
    expect(added(7, 'b')).toBe(3);
    expect([bulk.rowidOf(7, 'a'), bulk.rowidOf(7, 'b'), bulk.rowidOf(9, 'c'), bulk.rowidOf(7, 'x')]).toEqual([1, 3, 2, undefined]);
    bulk.forgetAfter(1);
    expect([bulk.rowidOf(7, 'a'), bulk.rowidOf(7, 'b'), bulk.rowidOf(9, 'c')]).toEqual([1, undefined, undefined]);
    expect(added(9, 'c')).toBe(4);
  });

  it('tells apart 53-bit keys that share their low 30 bits (kept as small integers)', () => {
    const rows = new Map<number, string>();
    const bulk = new BulkIdentities((rowid) => rows.get(rowid));
    const high = 2 ** 52 + 2 ** 40 + 5;
    const keys = [5, 2 ** 30 + 5, high, 2 ** 53 - 1, 2 ** 30 - 1];
    keys.forEach((key, index) => rows.set(bulk.add(key, `id-${index}`), `id-${index}`));
    expect(keys.map((key, index) => bulk.rowidOf(key, `id-${index}`))).toEqual([1, 2, 3, 4, 5]);
    expect(bulk.rowidOf(high, 'id-0')).toBe(1);
    expect(bulk.rowidOf(high + 2 ** 30, 'id-9')).toBeUndefined();
  });
});

describe('SqliteCatalogStore: a batch that fails part-way', () => {
  it.each([{ bulkLoad: false }, { bulkLoad: true }])('writes nothing of it, then and in the next batch (%o)', (options) => {
    const { path, dispose } = tempDir();
    try {
      const store = SqliteCatalogStore.open(path, options);
      const identity = (index: number, state: unknown) => ({ identityId: `id-${index}`, environmentId: 1, identifier: `user-${index}`, listed: true, revision: 0, state });
      const batchOf = (identities: ReturnType<typeof identity>[], checkpoint: number) => ({ checkpoint, checkpointEvent: { id: `e${checkpoint}`, position: checkpoint, stream: 'identity-x', revision: 0 }, identities, states: new Map(), audit: [], events: [] });
      // One state among 40 cannot be encoded: the batch fails after rows of others (in key order) were sent or buffered.
      const failing = batchOf(Array.from({ length: 40 }, (_, index) => identity(index, index === 20 ? { n: BigInt(index) } : { n: index })), 40);
      expect(() => store.write(failing)).toThrow();
      store.write(batchOf([identity(100, { n: 100 })], 41));

      expect(Array.from({ length: 40 }, (_, index) => store.identity(`id-${index}`)).filter((found) => found !== undefined)).toEqual([]);
      expect(store.identity('id-100')).toEqual({ revision: 0, state: { n: 100 } });
      expect(store.identifiers(1, { limit: 100 })).toEqual(['user-100']);
      expect(store.checkpoint()).toBe(41);
      store.close();
    } finally {
      dispose();
    }
  });
});

describe('SqliteCatalogStore: new identities', () => {
  it('inserts an identity at its first event without looking for it, and updates that row at its next events', () => {
    const { path, dispose } = tempDir();
    try {
      const ref = (position: number) => ({ id: `e${position}`, position, stream: 'identity-x', revision: 0 });
      const row = (index: number, revision: number) => ({ identityId: `i${index}`, environmentId: 1, identifier: `id-${index}`, listed: true, revision, state: { index, revision } });
      const store = SqliteCatalogStore.open(path);
      // 150 new identities: two statements of 64 rows and the rest in smaller ones.
      store.write({ checkpoint: 150, checkpointEvent: ref(150), identities: Array.from({ length: 150 }, (_, index) => row(index, 0)), states: new Map(), audit: [], events: [] });
      store.write({ checkpoint: 152, checkpointEvent: ref(152), identities: [row(7, 1), row(150, 0)], states: new Map(), audit: [], events: [] });
      store.close();
      const reopened = SqliteCatalogStore.open(path);
      expect(reopened.identity('i7')).toEqual({ revision: 1, state: { index: 7, revision: 1 } });
      expect(reopened.identity('i149')).toEqual({ revision: 0, state: { index: 149, revision: 0 } });
      expect(reopened.identity('i150')).toEqual({ revision: 0, state: { index: 150, revision: 0 } });
      expect(reopened.identifiers(1, { limit: 1000 })).toHaveLength(151);
      reopened.close();
      const raw = new Database(path, { readonly: true });
      expect(raw.prepare('SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM identity').get()).toEqual({ rows: 151, ids: 151 });
      raw.close();
    } finally {
      dispose();
    }
  });
});
